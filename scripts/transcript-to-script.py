#!/usr/bin/env python3
"""A real Markdown transcript (eval/real/episodes/*.md) as a two-voice TTS script for
scripts/make-eval-audio.sh: speakers alternate between voices A and B in order of first
appearance, tags and time markers are dropped, and no speaker name is spoken, so the audio has
no labels, as real podcast audio has none.

    scripts/transcript-to-script.py EPISODE.md > EPISODE.txt
"""
import re
import sys
from pathlib import Path

text = Path(sys.argv[1]).read_text()
voices, current, out = {}, None, []
title = Path(sys.argv[1]).stem
print(f"# Title: {title}")
for para in text.split("\n"):
    para = para.strip()
    if not para or para.startswith("#"):
        continue
    m = re.match(r"\*\*([^*]{1,60}?):\*\*\s*(.*)", para)
    if m:
        current, para = m.group(1).strip(), m.group(2)
    para = re.sub(r"\\?\[[^\]]*?\\?\]", " ", para).replace("\\", "").replace("*", "")
    para = " ".join(para.split())
    if not para or current is None:
        continue
    voice = voices.setdefault(current, "AB"[len(voices) % 2])
    print(f"{voice}: {para}")
