#!/usr/bin/env python3
"""The whole-transcript baseline of the real evaluation: what a desktop tool with a local model
does. Map: each ~900-word part of the transcript goes to the model with "list its most important
points"; reduce: the notes go back with "write the episode's 5 most important insights". Same
local model through `podbrief llm`, greedy, so it is reproducible.

    scripts/baseline-mapreduce.py OUT_DIR [--model NAME] [EPISODE.md ...]

Writes OUT_DIR/EPISODE.md (default: every eval/real/episodes/*.md) and OUT_DIR/times.tsv.
BIN names another podbrief binary.
"""
import argparse
import os
import re
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("BIN", str(ROOT / "target" / "release" / "podbrief"))
SYSTEM = "You summarize podcast transcripts accurately."
MAP = ("Here is part of a podcast transcript.\n\n\"\"\"\n{part}\n\"\"\"\n\n"
       "List the 3 most important points made in this part, one per line.")
REDUCE = ("Here are notes on the parts of one podcast episode, in order.\n\n{notes}\n\n"
          "Write the episode's 5 most important insights as a numbered list. For each: a short "
          "headline, a colon, then one or two sentences with the point and why it matters.")


def llm(model, prompt, max_tokens):
    out = subprocess.run(
        [str(BIN), "--threads", "2", "llm", "--model", model, "--system", SYSTEM,
         "--max-tokens", str(max_tokens), "--truncate", "-"],
        input=prompt, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def parts(text, words=900):
    text = re.sub(r"\\?\[[^\]]*\\?\]", " ", text).replace("**", "")
    w = text.split()
    return [" ".join(w[i:i + words]) for i in range(0, len(w), words)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("episodes", nargs="*")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    eps = [Path(e) for e in a.episodes] or sorted((ROOT / "eval/real/episodes").glob("*.md"))
    with open(out / "times.tsv", "w") as times:
        times.write("episode\tseconds\n")
        for ep in eps:
            t = time.time()
            notes = [llm(a.model, MAP.format(part=p), 120) for p in parts(ep.read_text())]
            brief = llm(a.model, REDUCE.format(notes="\n\n".join(notes)), 400)
            (out / f"{ep.stem}.md").write_text(brief + "\n")
            times.write(f"{ep.stem}\t{time.time() - t:.1f}\n")
            times.flush()
            print(f"{ep.stem}: {time.time() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
