//! Word error rate (WER) between a reference and a hypothesis transcript.
//!
//! This is a line-for-line twin of `scripts/wer.py` (used by the benchmark to
//! score faster-whisper): same normalisation, same edit distance, so both
//! sides print the same number for the same pair. The tests below pin values
//! that the Python script printed; change both files together.
//!
//! Normalisation is simple but fair to Whisper, which writes digits where the
//! reference scripts spell numbers out:
//! * lowercase; curly apostrophes become `'`;
//! * a word is a run of letters/digits starting with a letter, keeping an
//!   apostrophe only between a letter/digit and a letter (`don't`);
//! * everything else separates words (`twenty-five` == `twenty five`);
//! * `%` → `percent`, `&` → `and`, `$5` → `five dollars` (`one dollar` for
//!   `$1`), likewise `£` → `pounds` and `€` → `euros`;
//! * numbers become words: `1,234` → `one thousand two hundred thirty four`,
//!   `3.5` → `three point five`, `21st` → `twenty first`, `90s` → `nineties`,
//!   and a bare four-digit number reads like a year: `1994` → `nineteen ninety
//!   four`, `1905` → `nineteen oh five`, `2005` → `two thousand five`, `2024` →
//!   `twenty twenty four`. No "and" is inserted (`one hundred five`).

#[rustfmt::skip]
const ONES: [&str; 20] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
];
const TENS: [&str; 10] =
    ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const SCALES: [(u64, &str); 3] =
    [(1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")];

fn push_below_hundred(n: u64, out: &mut Vec<String>) {
    if n < 20 {
        out.push(ONES[n as usize].to_string());
    } else {
        out.push(TENS[(n / 10) as usize].to_string());
        let ones = n % 10;
        if ones != 0 {
            out.push(ONES[ones as usize].to_string());
        }
    }
}

fn push_below_thousand(mut n: u64, out: &mut Vec<String>) {
    if n >= 100 {
        out.push(ONES[(n / 100) as usize].to_string());
        out.push("hundred".to_string());
        n %= 100;
        if n == 0 {
            return;
        }
    }
    push_below_hundred(n, out);
}

/// Words for a string of ASCII digits (leading zeros ignored); from a
/// trillion up, the digits are read one by one.
fn cardinal(digits: &str) -> Vec<String> {
    let significant = digits.trim_start_matches('0');
    if significant.len() > 12 {
        return digits.bytes().map(|d| ONES[(d - b'0') as usize].to_string()).collect();
    }
    let mut n: u64 =
        if significant.is_empty() { 0 } else { significant.parse().expect("ASCII digits") };
    if n == 0 {
        return vec!["zero".to_string()];
    }
    let mut out = Vec::new();
    for (value, name) in SCALES {
        if n >= value {
            push_below_thousand(n / value, &mut out);
            out.push(name.to_string());
            n %= value;
        }
    }
    if n != 0 {
        push_below_thousand(n, &mut out);
    }
    out
}

/// A bare four-digit number (no leading zero), read the way people say years.
fn year_or_cardinal(digits: &str) -> Vec<String> {
    let n: u64 = digits.parse().expect("ASCII digits");
    let (hi, lo) = (n / 100, n % 100);
    let mut out = Vec::new();
    if (1100..=1999).contains(&n) {
        push_below_hundred(hi, &mut out);
        if lo == 0 {
            out.push("hundred".to_string());
        } else if lo < 10 {
            out.push("oh".to_string());
            out.push(ONES[lo as usize].to_string());
        } else {
            push_below_hundred(lo, &mut out);
        }
        return out;
    }
    if (2010..=2099).contains(&n) {
        out.push("twenty".to_string());
        push_below_hundred(lo, &mut out);
        return out;
    }
    cardinal(digits)
}

fn ordinal(mut words: Vec<String>) -> Vec<String> {
    if let Some(last) = words.last_mut() {
        *last = match last.as_str() {
            "one" => "first".to_string(),
            "two" => "second".to_string(),
            "three" => "third".to_string(),
            "five" => "fifth".to_string(),
            "eight" => "eighth".to_string(),
            "nine" => "ninth".to_string(),
            "twelve" => "twelfth".to_string(),
            w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
            w => format!("{w}th"),
        };
    }
    words
}

fn plural(mut words: Vec<String>) -> Vec<String> {
    if let Some(last) = words.last_mut() {
        *last = if let Some(stem) = last.strip_suffix('y') {
            format!("{stem}ies")
        } else if last.ends_with('x') {
            format!("{last}es")
        } else {
            format!("{last}s")
        };
    }
    words
}

fn is_alpha(c: char) -> bool {
    c.is_alphabetic()
}

fn is_alnum(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit()
}

fn currency(c: char) -> Option<(&'static str, &'static str)> {
    match c {
        '$' => Some(("dollar", "dollars")),
        '£' => Some(("pound", "pounds")),
        '€' => Some(("euro", "euros")),
        _ => None,
    }
}

/// Splits a transcript into normalised words (see the module docs).
pub fn normalize(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase().replace(['\u{2019}', '\u{2018}', '\u{02bc}'], "'");
    let cs: Vec<char> = lowered.chars().collect();
    let n = cs.len();
    let digit_at = |k: usize| k < n && cs[k].is_ascii_digit();
    let mut out: Vec<String> = Vec::new();
    let mut pending_currency: Option<(&str, &str)> = None;
    let mut i = 0;
    while i < n {
        let c = cs[i];
        if let Some(cur) = currency(c) {
            if digit_at(i + 1) {
                pending_currency = Some(cur);
                i += 1;
                continue;
            }
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while digit_at(j) {
                j += 1;
            }
            let mut int_digits: String = cs[i..j].iter().collect();
            let mut comma = false;
            // Thousands separators: "," followed by exactly three digits.
            while j + 3 < n
                && cs[j] == ','
                && digit_at(j + 1)
                && digit_at(j + 2)
                && digit_at(j + 3)
                && !digit_at(j + 4)
            {
                int_digits.extend(&cs[j + 1..j + 4]);
                comma = true;
                j += 4;
            }
            let mut frac = String::new();
            if j + 1 < n && cs[j] == '.' && digit_at(j + 1) {
                let mut k = j + 1;
                while digit_at(k) {
                    k += 1;
                }
                frac = cs[j + 1..k].iter().collect();
                j = k;
            }
            // "21st" -> ordinal, "1990s" -> plural; only when the letters end the word.
            let mut suffix = "";
            if frac.is_empty()
                && j + 1 < n
                && matches!((cs[j], cs[j + 1]), ('s', 't') | ('n', 'd') | ('r', 'd') | ('t', 'h'))
                && !(j + 2 < n && is_alnum(cs[j + 2]))
            {
                suffix = "th";
                j += 2;
            } else if frac.is_empty()
                && j < n
                && cs[j] == 's'
                && !(j + 1 < n && is_alnum(cs[j + 1]))
            {
                suffix = "s";
                j += 1;
            }
            let mut words = if !frac.is_empty() {
                let mut w = cardinal(&int_digits);
                w.push("point".to_string());
                w.extend(frac.bytes().map(|d| ONES[(d - b'0') as usize].to_string()));
                w
            } else if suffix == "th" {
                ordinal(cardinal(&int_digits))
            } else if !comma && int_digits.len() == 4 && !int_digits.starts_with('0') {
                year_or_cardinal(&int_digits)
            } else {
                cardinal(&int_digits)
            };
            if suffix == "s" {
                words = plural(words);
            }
            out.extend(words);
            if let Some((one, many)) = pending_currency.take() {
                let is_one = frac.is_empty() && int_digits.trim_start_matches('0') == "1";
                out.push(if is_one { one } else { many }.to_string());
            }
            i = j;
            continue;
        }
        if is_alpha(c) {
            let mut j = i + 1;
            while j < n {
                if is_alnum(cs[j]) || (cs[j] == '\'' && j + 1 < n && is_alpha(cs[j + 1])) {
                    j += 1;
                } else {
                    break;
                }
            }
            out.push(cs[i..j].iter().collect());
            i = j;
            continue;
        }
        match c {
            '%' => out.push("percent".to_string()),
            '&' => out.push("and".to_string()),
            _ => {}
        }
        i += 1;
    }
    out
}

/// Word-level Levenshtein distance in O(len(hyp)) memory: an hour-long
/// transcript has ~10,000 words, too many for a full matrix.
pub fn edit_distance<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=hypothesis.len()).collect();
    let mut cur = vec![0; hypothesis.len() + 1];
    for (r, rw) in reference.iter().enumerate() {
        cur[0] = r + 1;
        for (h, hw) in hypothesis.iter().enumerate() {
            let cost = usize::from(rw != hw);
            cur[h + 1] = (prev[h] + cost).min(prev[h + 1] + 1).min(cur[h] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[hypothesis.len()]
}

/// (substitutions + deletions + insertions) / reference words, after
/// [`normalize`]. An empty reference gives 0.0 against an empty hypothesis
/// and 1.0 otherwise.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    edit_distance(&r, &h) as f64 / r.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn normalizes_case_punctuation_and_apostrophes() {
        assert_eq!(
            normalize("Don\u{2019}t say 'hello', it's   fine! Rock-and-roll."),
            words("don't say hello it's fine rock and roll")
        );
        assert_eq!(normalize("Mr. Smith & Co."), words("mr smith and co"));
        assert_eq!(normalize("  \n\t "), Vec::<String>::new());
    }

    #[test]
    fn numbers_become_words() {
        assert_eq!(normalize("25"), normalize("twenty-five"));
        assert_eq!(
            normalize("0 7 13 40 99 100 105"),
            words("zero seven thirteen forty ninety nine one hundred one hundred five")
        );
        assert_eq!(normalize("1,234"), words("one thousand two hundred thirty four"));
        assert_eq!(normalize("12,000 12000"), words("twelve thousand twelve thousand"));
        assert_eq!(normalize("1,000,000"), words("one million"));
        assert_eq!(normalize("3.5%"), words("three point five percent"));
        assert_eq!(normalize("10:30"), words("ten thirty"));
        assert_eq!(
            normalize("21st 2nd 3rd 12th 40th 100th"),
            words("twenty first second third twelfth fortieth one hundredth")
        );
        assert_eq!(normalize("the 90s and 1960s"), words("the nineties and nineteen sixties"));
        assert_eq!(
            normalize("10000000000000"),
            words("one zero zero zero zero zero zero zero zero zero zero zero zero zero")
        );
    }

    #[test]
    fn four_digit_numbers_read_as_years() {
        assert_eq!(normalize("1994"), words("nineteen ninety four"));
        assert_eq!(normalize("1905"), words("nineteen oh five"));
        assert_eq!(normalize("1900"), words("nineteen hundred"));
        assert_eq!(normalize("2005"), words("two thousand five"));
        assert_eq!(normalize("2024"), words("twenty twenty four"));
        assert_eq!(normalize("1000 2100"), words("one thousand two thousand one hundred"));
    }

    #[test]
    fn currency_signs() {
        assert_eq!(normalize("$5 and $1"), words("five dollars and one dollar"));
        assert_eq!(normalize("£10 €1"), words("ten pounds one euro"));
        assert_eq!(normalize("$1.50"), words("one point five zero dollars"));
        assert_eq!(normalize("$ 5"), words("five"));
    }

    #[test]
    fn wer_basics() {
        assert_eq!(wer("the cat sat", "The cat sat."), 0.0);
        assert_eq!(wer("the cat sat on the mat", "the bat sat mat"), 0.5);
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "x"), 1.0);
        assert_eq!(wer("a b", ""), 1.0);
        assert_eq!(wer("a", "a b c"), 2.0);
        assert_eq!(edit_distance(&[1, 2, 3], &[1, 3, 4]), 2);
    }

    /// Values printed by `scripts/wer.py` for the same pairs (`repr` of the
    /// float), so the two implementations agree to the bit.
    #[test]
    fn matches_python_twin() {
        let cases: &[(&str, &str, f64)] = &[
            ("Twenty-five people paid forty dollars.", "25 people paid $40.", 0.0),
            ("In nineteen ninety four we grew by thirty percent.", "In 1994, we grew by 30%.", 0.0),
            ("They read twelve thousand books in ten weeks.", "They read 12,000 books in 10 weeks.", 0.0),
            ("It was the twenty first of July.", "It was the 21st of July!", 0.0),
            ("Ten pounds of fruit in one season.", "£10 of fruit in one season", 0.0),
            ("I don't know what to say.", "I dont know what to say", 0.16666666666666666),
            ("It’s one dollar, not one hundred and five.", "It's $1, not 105.", 0.125),
            ("the quick brown fox jumps over the lazy dog", "a quick brown fox jumped over lazy dogs today", 0.5555555555555556),
            ("And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.", " And so, my fellow Americans, ask not what your country can do for you; ask what you can do for your country.", 0.0),
            ("one two three four five six seven", "1 2 3 4 5 6 7 8", 0.14285714285714285),
            ("Back in the nineteen sixties, about three point five percent.", "Back in the 1960s, about 3.5%.", 0.0),
            ("Welcome back to the show.", "Welcome back to the snow, show.", 0.2),
            ("In two thousand five and twenty twenty four, and nineteen oh five.", "In 2005 and 2024, and 1905.", 0.0),
            ("", "", 0.0),
        ];
        for (r, h, expected) in cases {
            assert_eq!(wer(r, h), *expected, "ref={r:?} hyp={h:?}");
        }
    }
}
