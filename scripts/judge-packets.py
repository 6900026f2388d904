#!/usr/bin/env python3
"""Builds blind judging packets for the real evaluation set (protocol: eval/real/JUDGING.md).

    scripts/judge-packets.py OUT_DIR NAME=DIR [NAME=DIR ...] [--seed N] [--top 5]

Each NAME=DIR is one system: DIR holds EPISODE.json (a podbrief JSON brief) or EPISODE.md (any
other brief, e.g. the whole-transcript baseline). The reference list of each episode is added as
the system "reference" (its top points by importance, written as a brief), so the scale is
visible. For every episode in eval/real/reference/ the packet OUT_DIR/EPISODE/packet.md shows the
briefs under letters in an order shuffled per episode, with nothing that names a system; the
letters' meaning goes to OUT_DIR/EPISODE/key.json, which judges never see.
"""
import argparse
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "eval" / "real"


def clock(secs):
    secs = int(max(0, secs or 0))
    h, m, s = secs // 3600, secs // 60 % 60, secs % 60
    return f"{h}:{m:02}:{s:02}" if h else f"{m}:{s:02}"


def quote_is_headline(headline, quote):
    """podbrief's `brief::quote_is_headline`: the quote's words end with the headline's."""
    words = lambda t: [w.lower() for w in re.split(r"[^\w'%]+", t) if w and w != "_"]
    h, q = words(headline), words(quote)
    return bool(h) and len(h) <= len(q) <= len(h) + 2 and q[len(q) - len(h):] == h


def podbrief_entries(path, top):
    brief = json.loads(path.read_text())
    out = []
    for i, e in enumerate(brief["brief"][:top], 1):
        who = f"{e['speaker']}, " if e.get("speaker") else ""
        lines = [f"### {i}. {e['headline']}", ""]
        if e["text"].strip():
            lines += [e["text"], ""]
        # As podbrief's renderers do: a headline that is its quote is not said twice.
        if not quote_is_headline(e["headline"], e["quote"]):
            lines += [f"> {e['quote']}"]
        lines += [f"> — {who}{clock(e['start'])}", ""]
        out.append("\n".join(lines))
    return out


def markdown_entries(path, top):
    text = path.read_text()
    # Drop any line that could name the system that wrote it.
    text = "\n".join(l for l in text.splitlines() if not re.search(r"podbrief|made by|model", l, re.I))
    return [text.strip()]


def reference_entries(ref, top):
    points = sorted(ref["points"], key=lambda p: (-p["importance"], p["id"]))[:top]
    points.sort(key=lambda p: p.get("time") or "")
    out = []
    for i, p in enumerate(points, 1):
        who = p.get("speaker") or ""
        out.append(f"### {i}. {p['point']}\n\n> — {who}, {p.get('time') or ''}\n")
    return out


INSTRUCTIONS = """\
# Judging packet: {episode}

You judge briefs of one podcast episode. Read the whole transcript first:
`{transcript}` (Markdown; `**Name:**` starts a speaker's turn, `[00:12:34]` marks times).

Then rate every brief below. The briefs are labelled with letters only; do not guess who or
what wrote them, and judge each on its own merits. Rate only the first {top} entries of each.

For **each entry**, three yes/no ratings:
- **insight**: a specific claim with its reason or consequence, understandable without having
  heard the episode. A topic mention ("they discussed X"), a question, an introduction, a
  sponsor read, talk about the show, or a spoken fragment is not an insight.
- **faithful**: everything it says is what the episode says, and who said or did what is right.
- **readable**: reads as clear written English (no stutters, no cut-off clauses, no repeats).
- **fragment_question_or_meta**: yes if the entry is a spoken fragment, a question, or
  meta-talk/show furniture.

For **each brief**:
- **points_conveyed**: the ids of the reference points below that the brief conveys (its
  substance, not just its topic).
- **usefulness**: 1-10, how useful the brief is to someone deciding what they learned from this
  episode without listening (10 = as good as a careful human brief).

Reference points of the episode (written by a reader of the transcript before any brief existed):

{points}

Write your answer as JSON to `{judgment}`:

```json
{{"episode": "{episode}", "briefs": {{
  "A": {{"entries": [{{"insight": true, "faithful": true, "readable": true,
                     "fragment_question_or_meta": false, "note": "short reason"}}],
         "points_conveyed": [1, 4], "usefulness": 6, "comment": "one line"}}
}}}}
```
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("systems", nargs="+", help="NAME=DIR")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--set", type=Path, default=REAL,
                    help="the evaluation set (episodes/ and reference/): eval/real, or eval/heldout")
    a = ap.parse_args()
    systems = [s.split("=", 1) for s in a.systems]
    out = Path(a.out)
    for ref_path in sorted((a.set / "reference").glob("*.json")):
        ref = json.loads(ref_path.read_text())
        ep = ref["episode"]
        briefs = {"reference": reference_entries(ref, a.top)}
        for name, d in systems:
            j, m = Path(d) / f"{ep}.json", Path(d) / f"{ep}.md"
            if j.exists():
                briefs[name] = podbrief_entries(j, a.top)
            elif m.exists():
                briefs[name] = markdown_entries(m, a.top)
        names = sorted(briefs)
        random.Random(f"{a.seed}-{ep}").shuffle(names)
        letters = {chr(ord("A") + i): n for i, n in enumerate(names)}
        d = out / ep
        d.mkdir(parents=True, exist_ok=True)
        points = "\n".join(
            f"{p['id']}. (importance {p['importance']}) {p['point']}" for p in ref["points"]
        )
        text = INSTRUCTIONS.format(
            episode=ep,
            transcript=(a.set / "episodes" / f"{ep}.md").resolve(),
            top=a.top,
            points=points,
            judgment=(d / "judgment.json").resolve(),
        )
        for letter, name in letters.items():
            text += f"\n---\n\n## Brief {letter}\n\n" + "\n".join(briefs[name]) + "\n"
        (d / "packet.md").write_text(text)
        keys = out / "keys"
        keys.mkdir(exist_ok=True)
        (keys / f"{ep}.json").write_text(json.dumps(letters, indent=1) + "\n")
        print(f"{d / 'packet.md'}: {len(letters)} briefs")


if __name__ == "__main__":
    main()
