#!/usr/bin/env python3
"""Turns blind judgments (eval/real/JUDGING.md) into the quality table.

    scripts/score-judging.py PACKETS_DIR [--markdown]

The reference lists are looked up in eval/real/reference/, then eval/heldout/reference/.

Reads PACKETS_DIR/EPISODE/judgment.json and the letters' meaning from PACKETS_DIR/keys/, and
prints one row per episode and system, then each system's average: entries that are insight +
faithful + readable (of the top 5), entries that are fragments, questions or meta-talk, the
importance-3 reference points conveyed, all reference points conveyed, and usefulness (1-10).
"""
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    packets = Path(sys.argv[1])
    rows = []
    for jpath in sorted(packets.glob("*/judgment.json")):
        ep = jpath.parent.name
        key = json.loads((packets / "keys" / f"{ep}.json").read_text())
        ref_path = next(p for p in (ROOT / f"eval/{s}/reference/{ep}.json" for s in ("real", "heldout"))
                        if p.exists())
        ref = json.loads(ref_path.read_text())
        core = {p["id"] for p in ref["points"] if p["importance"] == 3}
        j = json.loads(jpath.read_text())
        for letter, b in j["briefs"].items():
            entries = b.get("entries", [])[:5]
            good = sum(1 for e in entries if e.get("insight") and e.get("faithful") and e.get("readable"))
            bad = sum(1 for e in entries if e.get("fragment_question_or_meta"))
            conveyed = set(b.get("points_conveyed", []))
            rows.append({
                "episode": ep, "system": key[letter], "good": good, "entries": len(entries),
                "fragments": bad, "core": len(conveyed & core), "core_total": len(core),
                "points": len(conveyed), "points_total": len(ref["points"]),
                "usefulness": b.get("usefulness", 0),
            })
    print("| episode | system | insight+faithful+readable | fragments/questions/meta | importance-3 points conveyed | all points conveyed | usefulness |")
    print("|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["episode"], r["system"])):
        print(f"| {r['episode']} | {r['system']} | {r['good']} of {r['entries']} | {r['fragments']} | "
              f"{r['core']} of {r['core_total']} | {r['points']} of {r['points_total']} | {r['usefulness']} |")
    by = defaultdict(list)
    for r in rows:
        by[r["system"]].append(r)
    print()
    print("| system (mean over episodes) | insight+faithful+readable of 5 | fragments/questions/meta | importance-3 points conveyed | usefulness |")
    print("|---|---|---|---|---|")
    for s, rs in sorted(by.items()):
        n = len(rs)
        mean = lambda k: sum(r[k] for r in rs) / n
        print(f"| {s} ({n} episodes) | {mean('good'):.1f} | {mean('fragments'):.1f} | "
              f"{mean('core'):.1f} of {mean('core_total'):.1f} | {mean('usefulness'):.1f} |")


if __name__ == "__main__":
    main()
