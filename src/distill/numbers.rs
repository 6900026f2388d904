//! Spelled-out numbers as digits. Whisper writes "40%", a TTS script or a model may write
//! "forty percent"; the grounding check compares numbers, so both sides must spell them alike.

const UNITS: &[(&str, u64)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

const SCALES: &[(&str, u64)] =
    &[("hundred", 100), ("thousand", 1_000), ("million", 1_000_000), ("billion", 1_000_000_000)];

fn unit(w: &str) -> Option<u64> {
    UNITS.iter().find(|(n, _)| *n == w).map(|&(_, v)| v)
}

fn scale(w: &str) -> Option<u64> {
    SCALES.iter().find(|(n, _)| *n == w).map(|&(_, v)| v)
}

/// `text` with every run of number words replaced by its value in digits ("two thousand and
/// ten" → "2010", "nineteen ninety four" → "1994"); other words are kept as they are.
pub fn to_digits(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    // An "and" inside a number ("three hundred and five") is held until the next word shows
    // whether the number goes on.
    let mut held_and: Option<String> = None;
    let flush = |run: &mut Vec<String>, out: &mut Vec<String>| {
        if lone_one(run) {
            out.push(std::mem::take(run).remove(0));
        } else if !run.is_empty() {
            out.push(value(run).to_string());
            run.clear();
        }
    };
    for raw in text.split_whitespace() {
        // Keep trailing punctuation after the number ("forty," → "40,").
        let core = raw.trim_end_matches(|c: char| !c.is_alphanumeric());
        let tail = &raw[core.len()..];
        let lower = core.to_lowercase();
        let parts: Vec<&str> = lower.split('-').collect();
        let numeric = parts.iter().all(|p| unit(p).is_some() || scale(p).is_some());
        let joiner = lower == "and" && !run.is_empty();
        if numeric && !(run.is_empty() && parts.iter().all(|p| scale(p).is_some())) {
            held_and = None;
            run.extend(parts.iter().map(|p| p.to_string()));
            if !tail.is_empty() {
                flush(&mut run, &mut out);
                if let Some(last) = out.last_mut() {
                    last.push_str(tail);
                }
            }
        } else if joiner && held_and.is_none() {
            held_and = Some(raw.to_string());
        } else {
            flush(&mut run, &mut out);
            out.extend(held_and.take());
            out.push(raw.to_string());
        }
    }
    flush(&mut run, &mut out);
    out.extend(held_and);
    out.join(" ")
}

/// "one" on its own is mostly a pronoun ("one child", "the one that"), not a figure to check.
fn lone_one(run: &[String]) -> bool {
    run.len() == 1 && run[0] == "one"
}

/// The value of a run of number words. Two groups below a hundred where the first is at least
/// ten read as a year ("nineteen ninety four", "twenty twenty").
fn value(words: &[String]) -> u64 {
    let mut groups: Vec<u64> = Vec::new();
    let (mut total, mut current) = (0u64, 0u64);
    let mut prev_unit: Option<u64> = None;
    for w in words {
        if let Some(s) = scale(w) {
            current = current.max(1) * s;
            if s >= 1_000 {
                total += current;
                current = 0;
            }
            prev_unit = None;
        } else if let Some(u) = unit(w) {
            // "ninety four" adds; "nineteen ninety" starts a new group.
            let adds = matches!(prev_unit, Some(p) if p >= 20 && p % 10 == 0 && u < 10);
            if prev_unit.is_some() && !adds {
                groups.push(total + current);
                total = 0;
                current = 0;
            }
            current += u;
            prev_unit = Some(u);
        }
    }
    groups.push(total + current);
    match groups.as_slice() {
        [a, b] if (10..100).contains(a) && *b < 100 => a * 100 + b,
        _ => groups.iter().map(|g| g.to_string()).collect::<String>().parse().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::to_digits;

    #[test]
    fn number_words_become_digits() {
        assert_eq!(to_digits("about forty percent fewer"), "about 40 percent fewer");
        assert_eq!(to_digits("two thousand commuters"), "2000 commuters");
        assert_eq!(to_digits("in nineteen ninety four, straight"), "in 1994, straight");
        assert_eq!(to_digits("twelve thousand books"), "12000 books");
        assert_eq!(to_digits("three hundred and sixty five days"), "365 days");
        assert_eq!(to_digits("twenty-one people"), "21 people");
        assert_eq!(to_digits("one point"), "one point");
        assert_eq!(to_digits("one hundred"), "100");
        assert_eq!(to_digits("a hundred reasons and more"), "a hundred reasons and more");
        assert_eq!(to_digits("1.5 million"), "1.5 million");
        assert_eq!(to_digits("two and a half"), "2 and a half");
    }
}
