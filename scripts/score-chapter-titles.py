#!/usr/bin/env python3
"""Title judgments → a Markdown table of accurate and specific titles per episode and system.

    scripts/score-chapter-titles.py JUDGED_DIR

JUDGED_DIR holds judgments/EPISODE.json and, for a comparison, key.json from
scripts/chapter-packets.py (which letter was which system for each chapter); without a key the
judgments rate one system's titles ({"chapter", "accurate", "specific"} per chapter).
"""
import json, os, sys


def main():
    d = sys.argv[1]
    key_path = os.path.join(d, "key.json")
    key = json.load(open(key_path)) if os.path.exists(key_path) else None
    rows, total = [], {}
    for f in sorted(os.listdir(os.path.join(d, "judgments"))):
        j = json.load(open(os.path.join(d, "judgments", f)))
        ep, per = j["episode"], {}
        for c in j["chapters"]:
            pairs = (
                [(name, c[letter]) for letter, name in key[ep][c["chapter"] - 1].items()]
                if key
                else [("podbrief", c)]
            )
            for name, v in pairs:
                r = per.setdefault(name, [0, 0, 0])
                r[0] += bool(v["accurate"])
                r[1] += bool(v["specific"])
                r[2] += 1
        for name, (a, s, n) in sorted(per.items()):
            rows.append(f"| {ep} | {name} | {a}/{n} | {s}/{n} |")
            t = total.setdefault(name, [0, 0, 0])
            t[0], t[1], t[2] = t[0] + a, t[1] + s, t[2] + n
    print("| episode | titles by | accurate | specific |\n|---|---|---|---|")
    print("\n".join(rows))
    for name, (a, s, n) in sorted(total.items()):
        print(f"| **all** | {name} | **{a}/{n} ({a / n:.0%})** | {s}/{n} ({s / n:.0%}) |")


if __name__ == "__main__":
    main()
