#!/usr/bin/env python3
"""Word error rate between a reference and a hypothesis transcript.

    wer.py REF.txt HYP.txt            prints the WER as a fraction, e.g. 0.0123
    wer.py --details REF.txt HYP.txt  also prints counts and the misaligned words
    wer.py --normalize FILE           prints the normalised words, one per line

Either path may be "-" for standard input. Pure standard library.

This is a line-for-line twin of src/transcript/wer.rs: the same normalisation
and the same edit distance, so a number printed here equals the one the Rust
tests compute (the Rust unit tests pin values produced by this script). Change
both together.

Normalisation (kept simple, but fair to Whisper, which writes digits):
  * lowercase; curly apostrophes become "'";
  * words are runs of letters/digits starting with a letter, with apostrophes
    kept only between a letter/digit and a letter ("don't" stays one word);
  * everything else is a separator (so "twenty-five" == "twenty five");
  * "%" -> "percent", "&" -> "and", "$N" -> "N dollars" ("one dollar" for $1),
    likewise pound and euro signs -> "pounds", "euros";
  * numbers become words: "1,234" -> "one thousand two hundred thirty four",
    "3.5" -> "three point five", "21st" -> "twenty first", "90s" ->
    "nineties", and a bare
    four-digit number reads like a year: "1994" -> "nineteen ninety four",
    "1905" -> "nineteen oh five", "2005" -> "two thousand five",
    "2024" -> "twenty twenty four" (use "1,500" for the quantity).
    No "and" is inserted ("one hundred five"), so write scripts that way.
"""
import signal
import sys

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SCALES = [(1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")]
ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                     "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
DIGITS = "0123456789"
# Whisper writes "ten pounds" as "£10"; the reference says the words.
CURRENCIES = {"$": ("dollar", "dollars"), "\u00a3": ("pound", "pounds"), "\u20ac": ("euro", "euros")}


def _below_hundred(n):
    if n < 20:
        return [ONES[n]]
    return [TENS[n // 10]] + ([ONES[n % 10]] if n % 10 else [])


def _below_thousand(n):
    out = []
    if n >= 100:
        out += [ONES[n // 100], "hundred"]
        n %= 100
        if n == 0:
            return out
    return out + _below_hundred(n)


def cardinal(digits):
    """Words for a string of ASCII digits (leading zeros ignored)."""
    n = int(digits)
    if n >= 1_000_000_000_000:  # beyond billions: read digit by digit
        return [ONES[int(d)] for d in digits]
    if n == 0:
        return ["zero"]
    out = []
    for value, name in SCALES:
        if n >= value:
            out += _below_thousand(n // value) + [name]
            n %= value
    if n:
        out += _below_thousand(n)
    return out


def year_or_cardinal(digits):
    """A bare four-digit number, read the way people say years."""
    n = int(digits)
    hi, lo = divmod(n, 100)
    if 1100 <= n <= 1999:
        if lo == 0:
            return _below_hundred(hi) + ["hundred"]
        if lo < 10:
            return _below_hundred(hi) + ["oh", ONES[lo]]
        return _below_hundred(hi) + _below_hundred(lo)
    if 2010 <= n <= 2099:
        return ["twenty"] + _below_hundred(lo)
    return cardinal(digits)


def ordinal(words):
    last = words[-1]
    if last in ORDINAL_IRREGULAR:
        last = ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last = last + "th"
    return words[:-1] + [last]


def plural(words):
    last = words[-1]
    last = last[:-1] + "ies" if last.endswith("y") else last + ("es" if last.endswith("x") else "s")
    return words[:-1] + [last]


def _is_alpha(c):
    return c.isalpha()


def _is_alnum(c):
    return c.isalpha() or c in DIGITS


def normalize(text):
    s = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("\u02bc", "'")
    cs = list(s)
    n = len(cs)
    out = []
    i = 0
    currency = None
    while i < n:
        c = cs[i]
        if c in CURRENCIES and i + 1 < n and cs[i + 1] in DIGITS:
            currency = CURRENCIES[c]
            i += 1
            continue
        if c in DIGITS:
            j = i
            while j < n and cs[j] in DIGITS:
                j += 1
            int_digits = "".join(cs[i:j])
            comma = False
            # Thousands separators: "," followed by exactly three digits.
            while j + 3 < n and cs[j] == "," and cs[j + 1] in DIGITS and cs[j + 2] in DIGITS \
                    and cs[j + 3] in DIGITS and not (j + 4 < n and cs[j + 4] in DIGITS):
                int_digits += "".join(cs[j + 1:j + 4])
                comma = True
                j += 4
            frac = ""
            if j + 1 < n and cs[j] == "." and cs[j + 1] in DIGITS:
                k = j + 1
                while k < n and cs[k] in DIGITS:
                    k += 1
                frac = "".join(cs[j + 1:k])
                j = k
            suffix = ""
            # "21st" -> ordinal, "1990s" -> plural; only when the letters end the word.
            if not frac and j + 1 < n and cs[j] + cs[j + 1] in ("st", "nd", "rd", "th") \
                    and not (j + 2 < n and _is_alnum(cs[j + 2])):
                suffix = "th"
                j += 2
            elif not frac and j < n and cs[j] == "s" and not (j + 1 < n and _is_alnum(cs[j + 1])):
                suffix = "s"
                j += 1
            if frac:
                words = cardinal(int_digits) + ["point"] + [ONES[int(d)] for d in frac]
            elif suffix == "th":
                words = ordinal(cardinal(int_digits))
            elif not comma and len(int_digits) == 4 and int_digits[0] != "0":
                words = year_or_cardinal(int_digits)
            else:
                words = cardinal(int_digits)
            if suffix == "s":
                words = plural(words)
            out += words
            if currency:
                out.append(currency[0] if int(int_digits) == 1 and not frac else currency[1])
                currency = None
            i = j
            continue
        if _is_alpha(c):
            j = i + 1
            while j < n:
                if _is_alnum(cs[j]):
                    j += 1
                elif cs[j] == "'" and j + 1 < n and _is_alpha(cs[j + 1]):
                    j += 1
                else:
                    break
            out.append("".join(cs[i:j]))
            i = j
            continue
        if c == "%":
            out.append("percent")
        elif c == "&":
            out.append("and")
        i += 1
    return out


def align(ref, hyp):
    """Full Levenshtein alignment, for --details only (quadratic memory);
    returns (substitutions, deletions, insertions, ops)."""
    R, H = len(ref), len(hyp)
    d = [[0] * (H + 1) for _ in range(R + 1)]
    for r in range(R + 1):
        d[r][0] = r
    for h in range(H + 1):
        d[0][h] = h
    for r in range(1, R + 1):
        for h in range(1, H + 1):
            cost = 0 if ref[r - 1] == hyp[h - 1] else 1
            d[r][h] = min(d[r - 1][h - 1] + cost, d[r - 1][h] + 1, d[r][h - 1] + 1)
    sub = dele = ins = 0
    ops = []
    r, h = R, H
    # Backtrace preferring match/substitution, then deletion, then insertion.
    while r > 0 or h > 0:
        if r > 0 and h > 0 and d[r][h] == d[r - 1][h - 1] + (0 if ref[r - 1] == hyp[h - 1] else 1):
            if ref[r - 1] != hyp[h - 1]:
                sub += 1
                ops.append(("S", ref[r - 1], hyp[h - 1]))
            r, h = r - 1, h - 1
        elif r > 0 and d[r][h] == d[r - 1][h] + 1:
            dele += 1
            ops.append(("D", ref[r - 1], ""))
            r -= 1
        else:
            ins += 1
            ops.append(("I", "", hyp[h - 1]))
            h -= 1
    ops.reverse()
    return sub, dele, ins, ops


def edit_distance(ref, hyp):
    """Word-level Levenshtein distance in O(len(hyp)) memory (hour-long
    transcripts have ~10,000 words; a full matrix would not fit)."""
    prev = list(range(len(hyp) + 1))
    for r in range(1, len(ref) + 1):
        cur = [r] + [0] * len(hyp)
        for h in range(1, len(hyp) + 1):
            cost = 0 if ref[r - 1] == hyp[h - 1] else 1
            cur[h] = min(prev[h - 1] + cost, prev[h] + 1, cur[h - 1] + 1)
        prev = cur
    return prev[-1]


def wer(reference, hypothesis):
    """(substitutions + deletions + insertions) / reference words, after
    normalize(). An empty reference gives 0.0 against an empty hypothesis and
    1.0 otherwise."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def _read(path):
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    args = argv[1:]
    if len(args) == 2 and args[0] == "--normalize":
        print("\n".join(normalize(_read(args[1]))))
        return 0
    details = bool(args) and args[0] == "--details"
    if details:
        args = args[1:]
    if len(args) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    ref_text, hyp_text = _read(args[0]), _read(args[1])
    print(repr(wer(ref_text, hyp_text)))
    if details:
        ref, hyp = normalize(ref_text), normalize(hyp_text)
        sub, dele, ins, ops = align(ref, hyp)
        print(f"ref_words={len(ref)} hyp_words={len(hyp)} sub={sub} del={dele} ins={ins}")
        for op, r, h in ops:
            print(f"  {op} ref={r!r} hyp={h!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
