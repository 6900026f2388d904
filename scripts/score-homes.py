#!/usr/bin/env python3
"""A cheap, model-free check between judged rounds: which importance-3 reference points of each
real episode have a passage that states them ("home") among the passages the brief's first five
entries quote. Helpers labelled each reference point's homes (eval/real/passages/EP.homes.json,
at most 3 per point, best first) in a numbered passage list (EP.passages.json) before any brief
of that list existed. A quote is matched to a passage by shared 4-word runs, so it survives a
different span cut. It undercounts (a point stated in a passage the helper did not list is
missed) and cannot tell whether an entry conveys the point: judged rounds decide.

    scripts/score-homes.py [--all] DIR [DIR ...]      DIR holds EPISODE.json podbrief briefs

With --all it also counts the points whose home is quoted by any of the model's entries (not
only the first five) and by any candidate at all (every cluster, the sentences as said too):
where a point is lost, before the model writes or in the ranking after it.
"""
import json
import re
import sys
from pathlib import Path

REAL = Path(__file__).resolve().parent.parent / "eval" / "real"


def words(t):
    return re.sub(r"[^a-z0-9 ]", "", t.lower().replace("’", "'")).split()


def grams(w):
    return {" ".join(w[k:k + 4]) for k in range(max(1, len(w) - 3))}


def passages_of(quote, passages):
    q = grams(words(quote.replace("...", " ")))
    return {p["id"] for p in passages if len(q & p["grams"]) >= max(2, len(q) // 3)}


def main():
    args = sys.argv[1:]
    every = "--all" in args
    for d in [a for a in args if a != "--all"]:
        hit = {"first five": 0, "model's entries": 0, "all candidates": 0}
        total = 0
        row = []
        for homes_path in sorted((REAL / "passages").glob("*.homes.json")):
            ep = homes_path.name.removesuffix(".homes.json")
            brief_path = Path(d) / f"{ep}.json"
            if not brief_path.exists():
                continue
            passages = json.loads((REAL / "passages" / f"{ep}.passages.json").read_text())["passages"]
            for p in passages:
                p["grams"] = grams(words(p["text"]))
            homes = json.loads(homes_path.read_text())["points"]
            ref = json.loads((REAL / "reference" / f"{ep}.json").read_text())["points"]
            core = {f"P{p['id']}" for p in ref if p["importance"] == 3}
            brief = json.loads(brief_path.read_text())
            groups = {
                "first five": brief["brief"][:5],
                "model's entries": [c for c in brief["clusters"] if c["origin"] == "llm"],
                "all candidates": brief["clusters"],
            }
            counts = []
            for name, entries in groups.items():
                quoted = set()
                for e in entries:
                    quoted |= passages_of(e["quote"], passages)
                h = sum(1 for k in core if set(homes[k]["spans"]) & quoted)
                hit[name] += h
                counts.append(h)
            total += len(core)
            row.append(f"{ep} {counts[0]}/{len(core)}")
        print(f"{d}: importance-3 points with a home quoted {hit['first five']}/{total} ({', '.join(row)})")
        if every:
            model = hit["model's entries"]
            print(f"  by any of the model's entries {model}/{total}, "
                  f"by any candidate {hit['all candidates']}/{total}")


if __name__ == "__main__":
    main()
