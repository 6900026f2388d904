#!/usr/bin/env python3
"""Offline check of how podbrief chooses the spans its model writes up (distill::spans::select),
against the helpers' labels of where each core point is stated (eval/real/passages/).

    for ep in eval/real/episodes/*.md; do
      RUST_LOG=podbrief::distill=trace ./target/release/podbrief summarize "$ep" \
        --llm-passages 0 -o /dev/null 2> "LOGS/$(basename "$ep" .md).log"
    done
    scripts/span-choice.py LOGS [--budget 10]

(`scripts/eval-real.sh OUT` keeps the same trace in OUT/MODEL/logs/, so LOGS may be that.)

Each log holds the nominated spans as traced ("nominated span {json}": text, score, start, mean
sentence vector). The script re-runs the choice as podbrief makes it (score less closeness in
meaning and time to the spans already chosen, after the recurrence weighting), and variants:
without recurrence, with other recurrence settings, and ten spans drawn at random. For each it
counts the importance-3 reference points whose labelled home passage shares enough 4-word runs
with a chosen span (the matching of scripts/score-homes.py). A model-free upper bound on what
the model's entries can convey; judged rounds decide.
"""
import argparse
import importlib.util
import json
import random
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("homes", ROOT / "scripts" / "score-homes.py")
homes_mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(homes_mod)
REAL = homes_mod.REAL
MARK = "nominated span "


def load(log):
    spans = []
    for line in log.read_text().splitlines():
        i = line.find(MARK)
        if i >= 0:
            spans.append(json.loads(line[i + len(MARK):]))
    return spans


def rescale(x):
    x = np.asarray(x, dtype=float)
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo) if hi > lo else x * 0 + 0.5


def recurrence(spans, gap, k):
    v = np.array([s["vector"] for s in spans])
    at = np.array([s["start"] for s in spans])
    sims = v @ v.T
    out = []
    for i in range(len(spans)):
        far = sorted((sims[i, j] for j in range(len(spans)) if abs(at[j] - at[i]) > gap), reverse=True)[:k]
        out.append(float(np.mean(far)) if far else 0.0)
    return out


def choose(spans, budget, recur=(300, 3, 0.5)):
    """podbrief's spans::select: greedy, score less 0.5 x meaning and 0.3 x time closeness."""
    v = np.array([s["vector"] for s in spans])
    at = np.array([s["start"] for s in spans])
    scores = np.array([s["score"] for s in spans])
    if recur:
        gap, k, w = recur
        scores = scores * ((1 - w) + w * rescale(recurrence(spans, gap, k)))
    span_time = max(at.max() - at.min(), 1.0)
    top = scores.max()
    chosen = []
    while len(chosen) < min(budget, len(spans)):
        best = None
        for i in range(len(spans)):
            if i in chosen:
                continue
            pen = max((0.5 * max(0.0, float(v[i] @ v[c]))
                       + 0.3 * max(0.0, 1 - 10 * abs(at[i] - at[c]) / span_time) for c in chosen), default=0.0)
            val = scores[i] - pen * top
            if best is None or val > best[1]:
                best = (i, val)
        chosen.append(best[0])
    return chosen


def covered(ep, spans, chosen):
    passages = json.loads((REAL / "passages" / f"{ep}.passages.json").read_text())["passages"]
    for p in passages:
        p["grams"] = homes_mod.grams(homes_mod.words(p["text"]))
    homes = json.loads((REAL / "passages" / f"{ep}.homes.json").read_text())["points"]
    ref = json.loads((REAL / "reference" / f"{ep}.json").read_text())["points"]
    core = [f"P{p['id']}" for p in ref if p["importance"] == 3]
    quoted = set()
    for i in chosen:
        quoted |= homes_mod.passages_of(spans[i]["text"], passages)
    return sum(1 for k in core if set(homes[k]["spans"]) & quoted), len(core)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", type=Path)
    ap.add_argument("--budget", type=int, default=10)
    a = ap.parse_args()
    eps = {p.stem: load(p) for p in sorted(a.logs.glob("*.log"))}
    eps = {k: v for k, v in eps.items() if v and (REAL / "passages" / f"{k}.homes.json").exists()}
    variants = {"podbrief (recurrence 300 s, 3, 0.5)": (300, 3, 0.5), "without recurrence": None}
    for gap in (120, 300, 600):
        for k in (1, 3, 5):
            for w in (0.4, 0.6):
                variants[f"recurrence {gap} s, {k}, {w}"] = (gap, k, w)
    total = sum(covered(ep, s, [])[1] for ep, s in eps.items())
    for name, recur in variants.items():
        hits = [covered(ep, s, choose(s, a.budget, recur))[0] for ep, s in eps.items()]
        print(f"{name:40s} {sum(hits)}/{total}  ({' '.join(map(str, hits))})")
    draws = []
    for seed in range(200):
        rng = random.Random(seed)
        draws.append(sum(covered(ep, s, rng.sample(range(len(s)), min(a.budget, len(s))))[0]
                         for ep, s in eps.items()))
    print(f"{'random spans (mean of 200 draws)':40s} {sum(draws) / len(draws):.1f}/{total}")
    every = sum(covered(ep, s, range(len(s)))[0] for ep, s in eps.items())
    print(f"{'every nominated span':40s} {every}/{total}")


if __name__ == "__main__":
    main()
