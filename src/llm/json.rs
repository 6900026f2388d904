//! Schema-constrained JSON. A byte-level automaton built from a JSON Schema (the subset serde
//! structs produce: objects, arrays, strings, numbers, booleans, string enums, nullables)
//! decides whether a token may come next, so even a 135M-parameter model can only write JSON
//! of the requested shape. Object keys are emitted in schema order in one canonical layout
//! (`{"a": 1, "b": [2, 3]}`), which also lets the generator feed the keys itself instead of
//! sampling them.

use std::rc::Rc;

#[derive(Debug, Clone)]
enum Node {
    /// Fields with the literal that introduces each (`{"name": ` or `, "name": `).
    Object(Vec<(Rc<str>, usize)>),
    Array {
        items: usize,
        min: usize,
        max: usize,
    },
    String {
        min: usize,
        max: usize,
    },
    Enum(Vec<String>),
    Number {
        integer: bool,
    },
    Boolean,
    Nullable(usize),
}

/// A compiled schema. Nodes live in an arena so automaton states are small and cheap to clone.
#[derive(Debug, Clone)]
pub struct Schema {
    nodes: Vec<Node>,
}

/// Strings without `maxLength` still end: small models otherwise ramble inside a string.
const DEFAULT_MAX_STRING: usize = 600;
const DEFAULT_MAX_ITEMS: usize = 32;
const MAX_DIGITS: usize = 18;

impl Schema {
    /// The automaton at the start of a document; the root is the last node compiled.
    pub fn start(&self) -> JsonState {
        JsonState { stack: Vec::new(), mode: Mode::Value(self.nodes.len().saturating_sub(1)) }
    }
}

#[derive(Debug, Clone)]
enum Frame {
    Object { node: usize, field: usize },
    Array { node: usize, count: usize },
}

#[derive(Debug, Clone)]
enum Then {
    Value(usize),
    Close,
    Done,
}

#[derive(Debug, Clone)]
enum Mode {
    Value(usize),
    Literal { text: Rc<str>, pos: usize, then: Then },
    Str { node: usize, len: usize, escape: u8 },
    EnumStr { node: usize, prefix: String },
    Num { integer: bool, state: u8, digits: usize },
    ArrayOpen,
    ArrayGap,
    After,
    Done,
}

/// Where the automaton is in the document; `Clone` is cheap enough to try every candidate.
#[derive(Debug, Clone)]
pub struct JsonState {
    stack: Vec<Frame>,
    mode: Mode,
}

// Number states: 0 start, 1 after '-', 2 after leading '0', 3 integer digits, 4 after '.',
// 5 fraction digits, 6 after 'e', 7 after exponent sign, 8 exponent digits.
const NUM_ENDS: [bool; 9] = [false, false, true, true, false, true, false, false, true];

impl JsonState {
    pub fn is_done(&self) -> bool {
        matches!(self.mode, Mode::Done)
    }

    /// Text that must come next whatever the model prefers (an object key, a closing brace).
    pub fn forced(&self) -> Option<&str> {
        match &self.mode {
            Mode::Literal { text, pos, .. } => text.get(*pos..),
            _ => None,
        }
    }

    /// Whether all of `bytes` may come next.
    pub fn accepts(&self, s: &Schema, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return false;
        }
        let mut t = self.clone();
        bytes.iter().all(|&b| t.step(s, b))
    }

    /// Advances over `bytes`; false (and an unspecified state) if any byte is not allowed.
    pub fn advance(&mut self, s: &Schema, bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| self.step(s, b))
    }

    fn step(&mut self, s: &Schema, b: u8) -> bool {
        loop {
            match &mut self.mode {
                Mode::Done => return false,
                Mode::Value(n) => {
                    let n = *n;
                    match &s.nodes[n] {
                        Node::Object(fields) => {
                            if let Some((lit, first)) = fields.first() {
                                self.stack.push(Frame::Object { node: n, field: 0 });
                                let then = Then::Value(*first);
                                self.mode = Mode::Literal { text: lit.clone(), pos: 0, then };
                            } else {
                                let text = "{}".into();
                                self.mode = Mode::Literal { text, pos: 0, then: Then::Done };
                            }
                        }
                        Node::Array { .. } => {
                            if b != b'[' {
                                return false;
                            }
                            self.stack.push(Frame::Array { node: n, count: 0 });
                            self.mode = Mode::ArrayOpen;
                            return true;
                        }
                        Node::String { .. } | Node::Enum(_) => {
                            if b != b'"' {
                                return false;
                            }
                            self.mode = match s.nodes[n] {
                                Node::Enum(_) => Mode::EnumStr { node: n, prefix: String::new() },
                                _ => Mode::Str { node: n, len: 0, escape: 0 },
                            };
                            return true;
                        }
                        Node::Number { integer } => {
                            self.mode = Mode::Num { integer: *integer, state: 0, digits: 0 };
                        }
                        Node::Boolean => {
                            let text: Rc<str> = match b {
                                b't' => "true".into(),
                                b'f' => "false".into(),
                                _ => return false,
                            };
                            self.mode = Mode::Literal { text, pos: 0, then: Then::Done };
                        }
                        Node::Nullable(inner) => {
                            self.mode = if b == b'n' {
                                Mode::Literal { text: "null".into(), pos: 0, then: Then::Done }
                            } else {
                                Mode::Value(*inner)
                            };
                        }
                    }
                }
                Mode::Literal { text, pos, then } => {
                    if text.as_bytes().get(*pos) != Some(&b) {
                        return false;
                    }
                    *pos += 1;
                    if *pos == text.len() {
                        self.mode = match then {
                            Then::Value(n) => Mode::Value(*n),
                            Then::Close => {
                                self.stack.pop();
                                self.after_value(s)
                            }
                            Then::Done => self.after_value(s),
                        };
                    }
                    return true;
                }
                Mode::Str { node, len, escape } => {
                    let (min, max) = match s.nodes[*node] {
                        Node::String { min, max } => (min, max),
                        _ => (0, DEFAULT_MAX_STRING),
                    };
                    match *escape {
                        0 => match b {
                            b'"' if *len >= min => {
                                self.mode = self.after_value(s);
                                return true;
                            }
                            _ if *len >= max => return false,
                            b'"' | 0..=0x1f => return false,
                            b'\\' => *escape = 1,
                            _ => *len += 1,
                        },
                        1 => match b {
                            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                                *escape = 0;
                                *len += 1;
                            }
                            b'u' => *escape = 2,
                            _ => return false,
                        },
                        _ => {
                            if !b.is_ascii_hexdigit() {
                                return false;
                            }
                            *escape = if *escape == 5 { 0 } else { *escape + 1 };
                            if *escape == 0 {
                                *len += 1;
                            }
                        }
                    }
                    return true;
                }
                Mode::EnumStr { node, prefix } => {
                    let Node::Enum(words) = &s.nodes[*node] else { return false };
                    if b == b'"' {
                        if words.iter().any(|w| w == prefix) {
                            self.mode = self.after_value(s);
                            return true;
                        }
                        return false;
                    }
                    prefix.push(b as char);
                    return words.iter().any(|w| w.as_bytes().starts_with(prefix.as_bytes()));
                }
                Mode::Num { integer, state, digits } => {
                    let next = match (*state, b) {
                        (0, b'-') => Some(1),
                        (0 | 1, b'0') => Some(2),
                        (0 | 1, b'1'..=b'9') => Some(3),
                        (3, b'0'..=b'9') => Some(3),
                        (2 | 3, b'.') if !*integer => Some(4),
                        (4 | 5, b'0'..=b'9') => Some(5),
                        (2 | 3 | 5, b'e' | b'E') if !*integer => Some(6),
                        (6, b'+' | b'-') => Some(7),
                        (6..=8, b'0'..=b'9') => Some(8),
                        _ => None,
                    };
                    match next {
                        Some(_) if b.is_ascii_digit() && *digits >= MAX_DIGITS => return false,
                        Some(n) => {
                            *state = n;
                            *digits += b.is_ascii_digit() as usize;
                            return true;
                        }
                        None if NUM_ENDS[*state as usize] => self.mode = self.after_value(s),
                        None => return false,
                    }
                }
                Mode::ArrayOpen => {
                    let Some(Frame::Array { node, .. }) = self.stack.last() else { return false };
                    let Node::Array { items, min, .. } = s.nodes[*node] else { return false };
                    if b == b']' {
                        if min > 0 {
                            return false;
                        }
                        self.stack.pop();
                        self.mode = self.after_value(s);
                        return true;
                    }
                    self.mode = Mode::Value(items);
                }
                Mode::ArrayGap => {
                    let Some(Frame::Array { node, .. }) = self.stack.last() else { return false };
                    let Node::Array { items, .. } = s.nodes[*node] else { return false };
                    self.mode = Mode::Value(items);
                    if b == b' ' {
                        return true;
                    }
                }
                Mode::After => {
                    // Only arrays wait here: after an object's value the next key is known.
                    let Some(Frame::Array { node, count }) = self.stack.last() else {
                        return false;
                    };
                    let Node::Array { min, max, .. } = s.nodes[*node] else { return false };
                    match b {
                        b',' if *count < max => self.mode = Mode::ArrayGap,
                        b']' if *count >= min => {
                            self.stack.pop();
                            self.mode = self.after_value(s);
                        }
                        _ => return false,
                    }
                    return true;
                }
            }
        }
    }

    /// A value just ended: count it in its array, move to the next key of its object, or
    /// finish the document at the top level.
    fn after_value(&mut self, s: &Schema) -> Mode {
        match self.stack.last_mut() {
            None => Mode::Done,
            Some(Frame::Array { count, .. }) => {
                *count += 1;
                Mode::After
            }
            Some(Frame::Object { node, field }) => {
                *field += 1;
                let Node::Object(fields) = &s.nodes[*node] else { return Mode::Done };
                match fields.get(*field) {
                    Some((lit, n)) => {
                        Mode::Literal { text: lit.clone(), pos: 0, then: Then::Value(*n) }
                    }
                    None => Mode::Literal { text: "}".into(), pos: 0, then: Then::Close },
                }
            }
        }
    }
}

mod compile;

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
