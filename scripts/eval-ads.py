#!/usr/bin/env python3
"""Sponsor-read detection against scripted episodes with known ad reads.

    scripts/eval-ads.py AUDIO_DIR OUT_DIR

AUDIO_DIR holds NAME.mp3 and NAME.txt for every episode in eval/ads/key.json (make them with
`scripts/make-eval-audio.sh AUDIO_DIR eval/episodes/ep1.txt eval/episodes/ep2.txt
eval/episodes/ep3.txt eval/ads/ep-ads.txt`). For each, the script runs `podbrief transcribe
--format json` (which flags ad segments) and `podbrief summarize --format json`, assigns every
transcript segment to the script paragraph that shares most of its words, and scores in seconds
of audio: precision = flagged seconds that are truly ad reads / flagged seconds, recall = truly
ad seconds flagged / all truly ad seconds. It also checks that no brief entry's quote lies in an
ad read. Prints a Markdown table.
"""
import json, os, re, subprocess, sys

BIN = os.environ.get("PODBRIEF", "target/release/podbrief")


def words(t):
    return set(re.findall(r"[a-z0-9']+", t.lower()))


def paragraphs(path):
    lines = [l.strip() for l in open(path, encoding="utf-8")]
    return [re.sub(r"^[AB]:\s*", "", l) for l in lines if l and not l.startswith("#")]


def main():
    audio, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    key = json.load(open("eval/ads/key.json"))["ads"]
    rows, T = [], [0.0, 0.0, 0.0]
    quoted_ads = 0
    for name, truth in key.items():
        mp3 = os.path.join(audio, name + ".mp3")
        subprocess.run([BIN, "transcribe", mp3, "--format", "json", "-o", out], check=True,
                       stderr=subprocess.DEVNULL)
        t = json.load(open(os.path.join(out, name + ".json")))
        paras = [words(p) for p in paragraphs(os.path.join(audio, name + ".txt"))]
        tp = flagged = true_ad = 0.0
        for s in t["segments"]:
            w = words(s["text"])
            if not w:
                continue
            best = max(range(len(paras)), key=lambda i: len(w & paras[i]) / len(w | paras[i]))
            dur = s["end"] - s["start"]
            is_ad = best + 1 in truth
            true_ad += dur * is_ad
            flagged += dur * s.get("ad", False)
            tp += dur * (is_ad and s.get("ad", False))
        brief = subprocess.run([BIN, "summarize", mp3, "--format", "json"], check=True,
                               capture_output=True, text=True).stdout
        b = json.loads(brief)
        reads = [(a["start"], a["end"]) for e in b["episodes"] for a in e.get("ads", [])]
        entries = b["brief"] + [r for e in b["brief"] for r in e.get("related", [])]
        bad = [e for e in entries if any(a <= e.get("start", -1) < z for a, z in reads)]
        quoted_ads += len(bad)
        sponsors = ", ".join(a.get("sponsor", "–") for e in b["episodes"] for a in e.get("ads", []))
        T = [T[0] + tp, T[1] + flagged, T[2] + true_ad]
        p = f"{tp / flagged:.0%}" if flagged else "–"
        r = f"{tp / true_ad:.0%}" if true_ad else "–"
        rows.append(f"| {name} | {len(truth)} | {true_ad:.0f} | {flagged:.0f} | {p} | {r} | {sponsors or '–'} | {len(bad)} |")
    print("| episode | ad reads | ad seconds | flagged seconds | precision | recall | sponsors named | entries quoting an ad |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    tp, fl, ta = T
    print(f"| **all** | | {ta:.0f} | {fl:.0f} | **{tp / fl:.0%}** | **{tp / ta:.0%}** | | {quoted_ads} |")


if __name__ == "__main__":
    main()
