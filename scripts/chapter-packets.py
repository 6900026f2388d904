#!/usr/bin/env python3
"""Packets for judging chapter titles blind: each chapter's candidate titles beside the transcript
text it covers, with no word on what wrote them.

    scripts/chapter-packets.py PACKET_DIR NAME=OUT_DIR [NAME=OUT_DIR ...]

Each OUT_DIR holds EPISODE.chapters.json (`podbrief chapters -f json -o OUT_DIR
eval/real/episodes/*.md`); the boundaries are taken from the first and must be the same in all
(systems compared here differ only in their titles). Writes PACKET_DIR/EPISODE.md: per chapter
its number, time and text, then the titles under letters in an order shuffled per chapter (seed
fixed), and PACKET_DIR/key.json (which letter is which system, per episode and chapter): keep the
key away from the judges. A judge marks, per title, whether it is accurate (names what the section
is mainly about; a listener who sees only the title would expect what they then hear) and
specific (more than the episode's general subject); protocol in eval/real/chapters/README.md.
"""
import json, os, random, sys
from importlib import import_module

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ev = import_module("eval-chapters")


def clock(t):
    t = int(round(t))
    return f"{t // 3600}:{t // 60 % 60:02}:{t % 60:02}" if t >= 3600 else f"{t // 60:02}:{t % 60:02}"


def main():
    packets, systems = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    os.makedirs(packets, exist_ok=True)
    rng = random.Random(20261206)
    key = {}
    first_dir = systems[0][1]
    for f in sorted(os.listdir(first_dir)):
        if not f.endswith(".chapters.json"):
            continue
        ep = f[: -len(".chapters.json")]
        lists = {name: json.load(open(os.path.join(d, f)))["chapters"] for name, d in systems}
        chapters = lists[systems[0][0]]
        for name, other in lists.items():
            if [c["startTime"] for c in other] != [c["startTime"] for c in chapters]:
                sys.exit(f"{ep}: {name} has other boundaries than {systems[0][0]}")
        raw = open(os.path.join(ev.EPISODES, ep + ".md"), encoding="utf-8").read().split("\n")
        segs = ev.segments(os.path.join(ev.EPISODES, ep + ".md"))
        out = [f"# Chapter titles to judge: {ep}\n"]
        key[ep] = []
        for k, c in enumerate(chapters):
            end = chapters[k + 1]["startTime"] if k + 1 < len(chapters) else float("inf")
            body = [raw[n - 1].strip() for n, s, e, t in segs if c["startTime"] - 1 <= s < end - 1]
            names = [n for n, _ in systems]
            rng.shuffle(names)
            letters = {}
            out.append(f"## Chapter {k + 1} ({clock(c['startTime'])})\n")
            out.append("\n\n".join(body) + "\n")
            for i, n in enumerate(names):
                letter = "XYZW"[i]
                letters[letter] = n
                out.append(f"**Title {letter}:** {lists[n][k]['title']}\n")
            key[ep].append(letters)
        open(os.path.join(packets, ep + ".md"), "w", encoding="utf-8").write("\n".join(out))
    json.dump(key, open(os.path.join(packets, "key.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
