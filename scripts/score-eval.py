#!/usr/bin/env python3
"""Score a `podbrief summarize --format json` brief against an answer key of planted insights.

    scripts/score-eval.py BRIEF.json --key eval/key.json --transcripts DIR
                          [--podbrief BIN] [--threshold 0.55] [--json]

DIR holds `podbrief transcribe --format json` outputs named after the episodes (ep1.json, ...).
An entry is tied to its transcript through `episode_index` and the brief's `episodes` list
(source file names), else its `episode` as a file name, else as a title listed in the key's
`titles`; failing all of those, every transcript is searched.

A brief entry or cluster *matches* planted insight P when the embedding of its headline + text
has cosine >= threshold with P's statement (or one of P's optional `alternates`, which restate
each half of a two-part insight) AND its headline, text or quote contains one of P's
keywords. Both are needed: the cosine alone confuses neighbouring topics (heat pumps and gas
stoves are both "home energy"), the keywords alone reward a filler sentence that happens to say
"solar". Embeddings come from `BIN embed -` (the same MiniLM the summarizer uses; its vectors
are unit length, so cosine is a plain dot product).

Reported (a report, not a test: exit 0 whatever the numbers, 2 only if an input is unreadable):
  recall        planted insights matched by at least one cluster in `clusters`;
  precision     `brief` entries that match some planted insight (and how many distinct ones);
  duplicates    for each insight planted in more than one episode, how many clusters match it
                (1 = merged) and whether that cluster's sources cover every episode;
  unsupported   clusters whose quote cannot be found in any transcript (word-level
                SequenceMatcher ratio >= 0.8 over a sliding window, so one misheard word still
                passes) or whose headline/text has a number absent from its episode's
                transcript (digits, or the same value spelled out in words, count as present).

Standard library only, so it runs wherever the release binary does.
"""

import argparse
import difflib
import json
import os
import re
import subprocess
import sys

QUOTE_MIN = 0.8


def die(msg):
    print(f"score-eval: {msg}", file=sys.stderr)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read {what} {path}: {e}")


def words(text):
    """Lower-case words of letters, digits and apostrophes: what a quote is compared on."""
    return re.findall(r"[a-z0-9']+", (text or "").lower().replace("\u2019", "'"))


# --- numbers -------------------------------------------------------------------------------
# Whisper writes some numbers as digits and others as words ("seventy percent" or "70%"), and a
# summary may do either, so a number counts as supported when its value occurs in either form.

UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
UNITS["oh"] = 0
TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
DECADES = {w[:-1] + "ies": v for w, v in TENS.items()}  # "the nineteen sixties"
SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
NUMBER_WORDS = set(UNITS) | set(TENS) | set(DECADES) | set(SCALES) | {"point", "half"}


def canon(value):
    """One spelling per value: 2000, 1.5, 0.05."""
    s = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return s or "0"


def digit_numbers(text):
    out = set()
    for m in re.finditer(r"\d+(?:[.,]\d+)*|\.\d+", text or ""):
        tok = m.group(0).replace(",", "")
        try:
            out.add(canon(tok))
        except ValueError:
            pass
    return out


def parse_number_words(toks):
    """Value of a run like ['two', 'thousand'] or ['zero', 'point', 'zero', 'five'], or None."""
    total, current, seen, i = 0, 0, False, 0
    while i < len(toks):
        t = toks[i]
        if t == "point":
            decimals = ""
            for d in toks[i + 1:]:
                if d in UNITS and UNITS[d] < 10:
                    decimals += str(UNITS[d])
                else:
                    break
            if not decimals:
                return None
            return float(f"{total + current}.{decimals}")
        if t == "half":
            return total + current + 0.5 if seen else 0.5
        if t in UNITS:
            current += UNITS[t]
        elif t in TENS:
            current += TENS[t]
        elif t in DECADES:
            current += DECADES[t]
        elif t == "hundred":
            current = (current or 1) * 100
        elif t in SCALES:
            total += (current or 1) * SCALES[t]
            current = 0
        else:
            return None
        seen = True
        i += 1
    return total + current if seen else None


def word_numbers(text):
    """Values spelled out in `text`. Every contiguous part of a run is parsed too, and two-part
    runs also as years ("twenty sixteen" = 2016): generous on purpose, since the point is to
    catch invented numbers, not to police how a model rounds or spells."""
    toks = words(text)
    out, run = set(), []

    def flush():
        # "and" / "a" only glue number words ("one and a half", "a hundred"); trim them at the ends.
        while run and run[-1] in ("and", "a"):
            run.pop()
        n = len(run)
        for i in range(n):
            for j in range(i + 1, min(n, i + 8) + 1):
                v = parse_number_words([t for t in run[i:j] if t not in ("and", "a")])
                if v is not None:
                    out.add(canon(v))
                    for k in range(i + 1, j):  # years: "twenty sixteen", "nineteen sixties"
                        left = parse_number_words(run[i:k])
                        right = parse_number_words(run[k:j])
                        if left is not None and right is not None and 10 <= left < 100 and right < 100:
                            out.add(canon(left * 100 + right))
        run.clear()

    for t in toks:
        if t in NUMBER_WORDS or (run and t in ("and", "a")):
            run.append(t)
        else:
            flush()
    flush()
    return out


# --- quotes --------------------------------------------------------------------------------


def quote_score(quote_words, transcript_words):
    """Best SequenceMatcher ratio of the quote against any window of about its length."""
    n = len(quote_words)
    if n == 0 or not transcript_words:
        return 0.0
    sm = difflib.SequenceMatcher(autojunk=False)
    sm.set_seq2(quote_words)  # seq2 is the one SequenceMatcher indexes; reuse it for every window
    best = 0.0
    for start in range(len(transcript_words)):
        for length in (n - 1, n, n + 1):
            if length < 1:
                continue
            window = transcript_words[start:start + length]
            sm.set_seq1(window)
            if sm.real_quick_ratio() <= best or sm.quick_ratio() <= best:
                continue
            best = max(best, sm.ratio())
        if best >= 0.999:
            break
    return best


# --- the brief -----------------------------------------------------------------------------


def as_str(v):
    return v if isinstance(v, str) else ("" if v is None else str(v))


def norm_entry(e):
    if not isinstance(e, dict):
        return {"headline": as_str(e), "text": "", "quote": "", "episode": "", "episode_index": None,
                "related": []}
    rel = e.get("related") if isinstance(e.get("related"), list) else []
    return {
        "headline": as_str(e.get("headline")),
        "text": as_str(e.get("text")),
        "quote": as_str(e.get("quote")),
        "episode": as_str(e.get("episode")),
        "episode_index": e.get("episode_index"),
        "related": [r for r in rel if isinstance(r, dict)],
    }


def embed(binary, texts):
    # One text per line: newlines inside a text would split it into two.
    lines = [" ".join(t.split()) or "(empty)" for t in texts]
    try:
        p = subprocess.run([binary, "embed", "-"], input="\n".join(lines) + "\n",
                           capture_output=True, text=True, check=False)
    except OSError as e:
        die(f"cannot run {binary}: {e}")
    if p.returncode != 0:
        die(f"`{binary} embed -` failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    try:
        vecs = json.loads(p.stdout)
    except ValueError as e:
        die(f"`{binary} embed -` printed no JSON: {e}")
    if len(vecs) != len(lines):
        die(f"`{binary} embed -` returned {len(vecs)} vectors for {len(lines)} texts")
    return vecs


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def keyword_hit(text, keywords):
    """A keyword counts at a word start ('heat pump' matches 'heat pumps', 'pin' matches
    'pinning', but '70' does not match '1970'); a trailing digit must end the number too."""
    low = text.lower()
    for kw in keywords:
        kw = kw.lower()
        pat = re.escape(kw)
        if kw[:1].isalnum():
            pat = r"(?<![a-z0-9])" + pat
        if kw[-1:].isdigit():
            pat += r"(?![0-9])"
        if re.search(pat, low):
            return kw
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("brief", help="output of podbrief summarize --format json")
    ap.add_argument("--key", required=True, help="answer key (eval/key.json)")
    ap.add_argument("--transcripts", required=True, help="folder of NAME.json transcripts")
    ap.add_argument("--podbrief", help="podbrief binary (default: target/release/podbrief in the repo)")
    ap.add_argument("--threshold", type=float, default=0.55, help="minimum cosine for a match")
    ap.add_argument("--json", action="store_true", help="print a JSON summary to stdout (the table goes to stderr)")
    args = ap.parse_args()

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = args.podbrief or os.path.join(repo, "target", "release", "podbrief")
    out = sys.stderr if args.json else sys.stdout

    brief_doc = load_json(args.brief, "brief")
    key = load_json(args.key, "key")
    if not isinstance(brief_doc, dict):
        die(f"{args.brief}: expected a JSON object with 'brief' and 'clusters'")
    planted = key.get("insights") or []
    if not planted:
        die(f"{args.key}: no insights")
    clusters = [norm_entry(e) for e in brief_doc.get("clusters") or []]
    brief = [norm_entry(e) for e in brief_doc.get("brief") or []]

    # Transcripts, by file stem.
    if not os.path.isdir(args.transcripts):
        die(f"no transcripts folder {args.transcripts}")
    transcripts = {}
    for name in sorted(os.listdir(args.transcripts)):
        if name.endswith(".json"):
            doc = load_json(os.path.join(args.transcripts, name), "transcript")
            segs = doc.get("segments") if isinstance(doc, dict) else None
            if not isinstance(segs, list):
                die(f"{name}: no 'segments' list")
            transcripts[name[:-5]] = " ".join(as_str(s.get("text")) for s in segs if isinstance(s, dict))
    if not transcripts:
        die(f"no *.json transcripts in {args.transcripts}")
    t_words = {k: words(v) for k, v in transcripts.items()}
    t_numbers = {k: digit_numbers(v) | word_numbers(v) for k, v in transcripts.items()}
    titles = {str(v).strip().lower(): k for k, v in (key.get("titles") or {}).items()}
    # summarize also lists its inputs (`episodes`: title + source file) and gives each entry an
    # `episode_index` into that list: the surest way from an entry back to its audio file.
    by_index = {}
    for i, ep in enumerate(brief_doc.get("episodes") or []):
        src = os.path.basename(as_str(ep.get("source") if isinstance(ep, dict) else ep))
        if src.rsplit(".", 1)[0] in transcripts:
            by_index[i] = src.rsplit(".", 1)[0]

    def episode_stem(name, index=None):
        """Transcript stem for an entry's `episode` (file name, path or title), or None."""
        if isinstance(index, int) and index in by_index:
            return by_index[index]
        name = (name or "").strip()
        if not name:
            return None
        base = os.path.basename(name)
        stem = base.rsplit(".", 1)[0] if "." in base else base
        for cand in (base, stem):
            if cand in transcripts:
                return cand
        low = name.lower()
        if low in titles and titles[low] in transcripts:
            return titles[low]
        for t, k in titles.items():  # a title shortened or decorated by the summarizer
            if k in transcripts and (t.startswith(low) or low.startswith(t)):
                return k
        return None

    # Embeddings: planted statements and their alternates, then every distinct entry's headline + text.
    p_texts, p_owner = [], []
    for i, p in enumerate(planted):
        if not isinstance(p, dict) or not isinstance(p.get("statement"), str):
            die(f"{args.key}: insight {i + 1} has no statement")
        for t in [p["statement"]] + [a for a in p.get("alternates") or [] if isinstance(a, str)]:
            p_texts.append(t)
            p_owner.append(i)
    entry_texts = []
    for e in clusters + brief:
        e["claim"] = (e["headline"] + " " + e["text"]).strip()
        e["all"] = " ".join((e["headline"], e["text"], e["quote"]))
        if e["claim"] not in entry_texts:
            entry_texts.append(e["claim"])
    vecs = embed(binary, p_texts + entry_texts)
    p_vecs = [[] for _ in planted]
    for i, v in zip(p_owner, vecs[:len(p_texts)]):
        p_vecs[i].append(v)
    e_vec = dict(zip(entry_texts, vecs[len(p_texts):]))

    def cosine(e, i):
        return max(dot(e_vec[e["claim"]], v) for v in p_vecs[i])

    def matches(e):
        """[(planted index, cosine)] for every planted insight `e` matches."""
        hits = []
        for i, p in enumerate(planted):
            cos = cosine(e, i)
            if cos >= args.threshold and keyword_hit(e["all"], p.get("keywords") or []):
                hits.append((i, cos))
        return hits

    for e in clusters + brief:
        e["matches"] = matches(e)

    # Per planted insight: which clusters / brief entries match it.
    rows = []
    for i, p in enumerate(planted):
        c_ranks = [r for r, e in enumerate(clusters, 1) if any(j == i for j, _ in e["matches"])]
        b_ranks = [r for r, e in enumerate(brief, 1) if any(j == i for j, _ in e["matches"])]
        best_cos = max((cosine(e, i) for e in clusters), default=0.0)
        rows.append({"id": p.get("id", f"P{i + 1}"), "statement": p["statement"],
                     "episodes": p.get("episodes") or [], "cluster_ranks": c_ranks,
                     "brief_ranks": b_ranks, "best_cosine": round(best_cos, 3)})

    recall_n = sum(1 for r in rows if r["cluster_ranks"])
    brief_hits = [r for r, e in enumerate(brief, 1) if e["matches"]]
    # Two brief entries on one planted insight both count as hits above; this says how many
    # different planted insights the brief actually delivers.
    brief_distinct = len({i for e in brief for i, _ in e["matches"]})

    # Duplicate groups: one cluster should carry an insight that two episodes state differently.
    groups = []
    for r in rows:
        if len(r["episodes"]) < 2:
            continue
        covers = None
        if len(r["cluster_ranks"]) == 1:
            c = clusters[r["cluster_ranks"][0] - 1]
            # Only near-duplicates folded into the cluster count as its sources: summarize also
            # lists "nearby" related points, which are distinct insights (possibly from another
            # episode). Related entries without a `kind` are taken as sources.
            sources = [x for x in c["related"] if x.get("kind", "merged") == "merged"]
            stems = {episode_stem(c["episode"], c["episode_index"])}
            stems |= {episode_stem(as_str(x.get("episode")), x.get("episode_index")) for x in sources}
            stems -= {None}
            covers = sorted(stems)
        groups.append({"id": r["id"], "episodes": r["episodes"], "clusters": len(r["cluster_ranks"]),
                       "merged": len(r["cluster_ranks"]) == 1,
                       "sources": covers,
                       "covers_all": covers is not None and set(r["episodes"]) <= set(covers)})

    # Unsupported: clusters (and brief entries that are not also clusters) not grounded in the audio.
    seen, unsupported, checked = set(), [], 0
    for where, lst in (("cluster", clusters), ("brief", brief)):
        for rank, e in enumerate(lst, 1):
            ident = (e["headline"], e["text"], e["quote"])
            if ident in seen:
                continue
            seen.add(ident)
            checked += 1
            reasons = []
            q = words(e["quote"])
            if not q:
                reasons.append("no quote")
            else:
                stem = episode_stem(e["episode"], e["episode_index"])
                order = ([stem] if stem else []) + [k for k in transcripts if k != stem]
                best = 0.0
                for k in order:
                    best = max(best, quote_score(q, t_words[k]))
                    if best >= QUOTE_MIN:
                        break
                if best < QUOTE_MIN:
                    reasons.append(f"quote not in transcripts (best {best:.2f})")
            stem = episode_stem(e["episode"], e["episode_index"])
            pool = t_numbers[stem] if stem else set().union(*t_numbers.values())
            for m in re.finditer(r"\d+(?:[.,]\d+)*|\.\d+", e["claim"]):
                tok = m.group(0)
                if canon(tok.replace(",", "")) not in pool:
                    reasons.append(f"number {tok} not in {stem or 'any transcript'}")
            if reasons:
                unsupported.append({"where": where, "rank": rank, "episode": e["episode"],
                                    "headline": e["headline"], "reasons": reasons})

    # --- report ---
    def short(s, n):
        return s if len(s) <= n else s[:n - 1] + "…"

    print(f"{'id':<4} {'episodes':<10} {'full list':<12} {'brief':<7} {'cos':>5}  statement", file=out)
    for r in rows:
        full = ",".join(f"#{x}" for x in r["cluster_ranks"]) or "-"
        inb = ",".join(f"#{x}" for x in r["brief_ranks"]) or "-"
        print(f"{r['id']:<4} {'+'.join(r['episodes']):<10} {short(full, 12):<12} {inb:<7} "
              f"{r['best_cosine']:>5.2f}  {short(r['statement'], 70)}", file=out)
    print(file=out)
    for rank, e in enumerate(brief, 1):
        m = ", ".join(f"{planted[i].get('id')} ({c:.2f})" for i, c in e["matches"]) or "no planted insight"
        print(f"brief #{rank}: {short(e['headline'], 60)!r} -> {m}", file=out)
    print(file=out)
    for g in groups:
        state = "merged" if g["merged"] else f"{g['clusters']} clusters"
        src = "" if g["sources"] is None else f", sources {'+'.join(g['sources']) or '?'}" + \
            ("" if g["covers_all"] else " (misses an episode)")
        print(f"duplicate {g['id']} ({'+'.join(g['episodes'])}): {state}{src}", file=out)
    for u in unsupported:
        print(f"unsupported {u['where']} #{u['rank']} {short(u['headline'], 50)!r}: {'; '.join(u['reasons'])}",
              file=out)
    print(file=out)
    n_merged = sum(1 for g in groups if g["merged"])
    n_covering = sum(1 for g in groups if g["covers_all"])
    print(f"recall (full list): {recall_n}/{len(rows)} = {100 * recall_n / len(rows):.0f}%   "
          f"brief precision: {len(brief_hits)}/{len(brief)} ({brief_distinct} distinct)   "
          f"duplicates merged: {n_merged}/{len(groups)} (citing every episode: {n_covering})   "
          f"unsupported: {len(unsupported)}/{checked}   clusters: {len(clusters)}", file=out)

    if args.json:
        json.dump({
            "threshold": args.threshold,
            "planted": len(rows),
            "recall_matched": recall_n,
            "recall": round(recall_n / len(rows), 4),
            "brief_size": len(brief),
            "brief_matched": len(brief_hits),
            "brief_distinct": brief_distinct,
            "duplicate_groups": len(groups),
            "duplicates_merged": n_merged,
            "duplicates_covering": n_covering,
            "unsupported": len(unsupported),
            "checked": checked,
            "clusters": len(clusters),
            "insights": rows,
            "groups": groups,
            "unsupported_list": unsupported,
            "brief_matches": [{"rank": r, "headline": e["headline"],
                               "matches": [planted[i].get("id") for i, _ in e["matches"]]}
                              for r, e in enumerate(brief, 1)],
        }, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
