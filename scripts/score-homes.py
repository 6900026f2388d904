#!/usr/bin/env python3
"""A cheap, model-free check between judged rounds: which importance-3 reference points of each
real episode have a passage that states them ("home") among the passages the brief's first five
entries quote. Helpers labelled each reference point's homes (eval/real/passages/EP.homes.json,
at most 3 per point, best first) in a numbered passage list (EP.passages.json) before any brief
of that list existed. A quote is matched to a passage by shared 4-word runs, so it survives a
different span cut. It undercounts (a point stated in a passage the helper did not list is
missed) and cannot tell whether an entry conveys the point: judged rounds decide.

    scripts/score-homes.py DIR [DIR ...]      DIR holds EPISODE.json podbrief briefs
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
    for d in sys.argv[1:]:
        hit = total = 0
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
            quoted = set()
            for e in json.loads(brief_path.read_text())["brief"][:5]:
                quoted |= passages_of(e["quote"], passages)
            h = sum(1 for k in core if set(homes[k]["spans"]) & quoted)
            hit += h
            total += len(core)
            row.append(f"{ep} {h}/{len(core)}")
        print(f"{d}: importance-3 points with a home quoted {hit}/{total} ({', '.join(row)})")


if __name__ == "__main__":
    main()
