#!/usr/bin/env python3
"""Chapter boundaries against human references: recall and precision within a tolerance.

    scripts/eval-chapters.py OUT_DIR [--tol 30] [--ref eval/real/chapters/reference]
                             [--second eval/real/chapters/second] [--episodes eval/real/episodes]

The held-out set: --ref eval/heldout/chapters/reference --episodes eval/heldout/episodes.

OUT_DIR holds EPISODE.chapters.json files (Podcasting 2.0, from `podbrief chapters -f json -o`).
A reference chapter gives the transcript line and first words where it starts; its time is found
the way podbrief times a Markdown transcript (one segment per paragraph, `[HH:MM:SS]` markers set
the clock and the paragraphs between two markers are stretched to meet them, otherwise 150
words a minute), so both sides use the same clock. A boundary (every
chapter start but the first) counts as found when a predicted boundary lies within --tol seconds,
each predicted boundary matching at most one reference boundary. The ceiling row compares the
second annotator's boundaries with the reference the same way (episodes the second annotator
wrote independently only). Prints a Markdown table.
"""
import argparse, json, os, re, sys

EPISODES = "eval/real/episodes"
WPM = 150.0


def timestamp(s):
    m = re.match(r"^(\d+):(\d\d):(\d\d(?:\.\d+)?)$|^(\d+):(\d\d(?:\.\d+)?)$", s.strip())
    if not m:
        return None
    if m.group(1):
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return int(m.group(4)) * 60 + float(m.group(5))


def segments(path):
    """Paragraphs with podbrief's clock (src/transcript/parse.rs, `plain`)."""
    t, out, pins = 0.0, [], [(0, 0.0)]
    for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#") or all(c in "-*_=" for c in line):
            continue
        line = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", line)
        m = re.match(r"^(\*\*|__)(.+?)\1\s*:?\s*(.*)$", line)
        rest = m.group(3) if m and len(m.group(2).rstrip(":").split()) <= 4 and (
            m.group(2).rstrip().endswith(":") or line[len(m.group(1)) * 2 + len(m.group(2)):].lstrip().startswith(":")) else line
        marker, words_before, kept = None, 0, ""
        while "[" in rest:
            o = rest.find("[")
            c = rest.find("]", o)
            if c < 0:
                break
            kept += rest[:o] + " "
            if marker is None and timestamp(rest[o + 1:c]) is not None:
                marker, words_before = timestamp(rest[o + 1:c]), len(kept.split())
            rest = rest[c + 1:]
        text = " ".join((kept + rest).split())
        if not text:
            continue
        per = 60.0 / WPM
        start = t if marker is None else max(0.0, marker - words_before * per)
        if marker is not None and start >= pins[-1][1]:
            pins.append((len(out), start))
            (a, ta), (b, tb) = pins[-2], pins[-1]
            if b > a:  # stretch or squeeze the paragraphs since the last pin to meet this one
                lo, hi = out[a][1], out[b - 1][2]
                k = (tb - ta) / (hi - lo) if hi > lo else 0.0
                for i in range(a, b):
                    n, s0, e0, tx = out[i]
                    out[i] = (n, ta + (s0 - lo) * k, ta + (e0 - lo) * k, tx)
        start = pins[-1][1] if pins[-1][0] == len(out) else t
        end = start + len(text.split()) * per
        out.append((lineno, start, end, text))
        t = end
    return out


def words(t):
    return re.findall(r"[a-z0-9']+", t.lower().replace("\\", ""))


def reference_times(path, episode, episodes=EPISODES):
    segs = segments(os.path.join(episodes, episode + ".md"))
    out = []
    for c in json.load(open(path))["chapters"]:
        first = words(c["first_words"])[:5]
        best = None
        for lineno, start, end, text in segs:
            w = words(text)
            for k in range(len(w) - len(first) + 1):
                if w[k:k + len(first)] == first:
                    cand = (abs(lineno - c["line"]), start + k * (end - start) / max(1, len(w)))
                    best = min(best, cand) if best else cand
        if best is None:
            sys.exit(f"{path}: cannot find {c['first_words']!r}")
        out.append(best[1])
    return sorted(out)


def match(ref, pred, tol):
    ref, pred = [r for r in ref if r > 1], [p for p in pred if p > 1]
    used, hits = set(), 0
    for r in ref:
        near = [(abs(p - r), j) for j, p in enumerate(pred) if j not in used and abs(p - r) <= tol]
        if near:
            used.add(min(near)[1])
            hits += 1
    return hits, len(ref), len(pred)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tol", type=float, default=30.0)
    ap.add_argument("--ref", default="eval/real/chapters/reference")
    ap.add_argument("--second", default="eval/real/chapters/second")
    ap.add_argument("--episodes", default=EPISODES, help="where the transcripts are")
    a = ap.parse_args()
    rows, tot, ceil = [], [0, 0, 0], [0, 0, 0]
    for f in sorted(os.listdir(a.ref)):
        ep = f[:-5]
        ref = reference_times(os.path.join(a.ref, f), ep, a.episodes)
        got = os.path.join(a.out, ep + ".chapters.json")
        if not os.path.exists(got):
            continue
        pred = [c["startTime"] for c in json.load(open(got))["chapters"] if c.get("toc", True)]
        h, r, p = match(ref, pred, a.tol)
        tot = [x + y for x, y in zip(tot, (h, r, p))]
        sec = os.path.join(a.second, f)
        c = ""
        same = os.path.exists(sec) and json.load(open(sec)) == json.load(open(os.path.join(a.ref, f)))
        if os.path.exists(sec) and not same:
            ch, cr, cp = match(ref, reference_times(sec, ep, a.episodes), a.tol)
            ceil = [x + y for x, y in zip(ceil, (ch, cr, cp))]
            c = f"{ch}/{cr}"
        rows.append(f"| {ep} | {r} | {p} | {h}/{r} ({h / r:.0%}) | {h}/{p} ({h / max(p, 1):.0%}) | {c or '–'} |")
    print(f"| episode | reference boundaries | podbrief boundaries | recall within {a.tol:.0f} s | precision | second annotator found |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    h, r, p = tot
    cr = f"{ceil[0]}/{ceil[1]} ({ceil[0] / ceil[1]:.0%})" if ceil[1] else "–"
    print(f"| **all** | {r} | {p} | **{h / r:.0%}** | **{h / max(p, 1):.0%}** | {cr} |")


if __name__ == "__main__":
    main()
