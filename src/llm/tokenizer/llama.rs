//! llama.cpp's conventions for a GGUF vocabulary, kept apart from the tokenizer plumbing because
//! they are tables to keep in step with llama.cpp (`src/llama-vocab.cpp`, `src/unicode.cpp`)
//! rather than logic of ours: token attributes and their overrides by text, the tokens that end
//! generation, and the pre-tokenizer regexes for each `tokenizer.ggml.pre`.

use std::collections::{HashMap, HashSet};

use candle_core::quantized::gguf_file::{Content, Value};

use super::{integer, malformed, Result, TokenizerError};

// llama.cpp's `llama_token_attr` bits; kept identical so they can be checked against it.
pub(super) const ATTR_UNKNOWN: u16 = 1 << 0;
pub(super) const ATTR_UNUSED: u16 = 1 << 1;
pub(super) const ATTR_NORMAL: u16 = 1 << 2;
pub(super) const ATTR_CONTROL: u16 = 1 << 3;
pub(super) const ATTR_USER_DEFINED: u16 = 1 << 4;
pub(super) const ATTR_BYTE: u16 = 1 << 5;

/// Texts llama.cpp treats as end of generation whatever their GGUF token type says (it also
/// forces them to control tokens, so they are only parsed as specials on request).
const EOG_TEXTS: &str = "<|eot_id|> <|im_end|> <|end|> <|return|> <|call|> <|flush|> <|calls|> \
    <end_of_turn> <|endoftext|> </s> <|eom_id|> <EOT> _<EOT> [EOT] [EOS] <|end_of_text|> \
    <end_of_utterance> <eos> <turn|> <|tool_response> <｜end▁of▁sentence｜> [e~[";
/// Fill-in-the-middle markers that llama.cpp also forces to control tokens, by kind (prefix,
/// suffix, middle, pad, repo, file separator). The last three kinds also end generation.
const FIM_TEXTS: [&str; 6] = [
    "<|fim_prefix|> <fim-prefix> <fim_prefix> <｜fim▁begin｜> <PRE> ▁<PRE> <|code_prefix|> <|prefix|>",
    "<|fim_suffix|> <fim-suffix> <fim_suffix> <｜fim▁hole｜> <SUF> ▁<SUF> <|code_suffix|> <|suffix|>",
    "<|fim_middle|> <fim-middle> <fim_middle> <｜fim▁end｜> <MID> ▁<MID> <|code_middle|> <|middle|>",
    "<|fim_pad|> <fim-pad> <fim_pad> <PAD> [PAD]",
    "<|fim_repo|> <|repo_name|> <fim-repo> <REPO> <reponame>",
    "<|file_sep|>",
];

/// llama.cpp's GPT-2 split, with the trailing `\s+` its hand-written matcher implements.
const GPT2_RE: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
/// Qwen2's split as llama.cpp adapted it: `(?i:'s|...)` spelled with explicit case classes,
/// which also keeps a Unicode-aware engine from matching `'ſ` or the Kelvin sign.
const QWEN2_RE: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3's split: Qwen2's with numbers in groups of up to three digits.
const LLAMA3_RE: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// How llama.cpp (`llm_tokenizer_bpe`) pre-tokenizes for one `tokenizer.ggml.pre` value.
pub(super) struct PreTokenizer {
    /// Applied in turn, each splitting every piece the previous one left; matches and the gaps
    /// between them both become pieces.
    pub regexes: &'static [&'static str],
    /// Whole pieces found in the vocabulary skip the merges.
    pub ignore_merges: bool,
    /// Whether BOS is added when the GGUF does not say (`tokenizer.ggml.add_bos_token`).
    pub add_bos: bool,
}

pub(super) fn pre_tokenizer(pre: &str) -> Result<PreTokenizer> {
    let plain = |regexes| PreTokenizer { regexes, ignore_merges: false, add_bos: false };
    Ok(match pre {
        "qwen2" | "deepseek-r1-qwen" | "kormo" | "stablelm2" | "megrez" => plain(&[QWEN2_RE]),
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0"
        | "lfm2" => PreTokenizer { regexes: &[LLAMA3_RE], ignore_merges: true, add_bos: true },
        "dbrx" | "smaug-bpe" => plain(&[LLAMA3_RE]),
        "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva-7b" => {
            plain(&[r"\p{N}", GPT2_RE])
        }
        "gpt-2" | "phi-2" | "mpt" | "olmo" | "jais" | "exaone4" | "roberta-bpe" => {
            plain(&[GPT2_RE])
        }
        // A GGUF without `tokenizer.ggml.pre` gets llama.cpp's default (it warns the same way).
        "default" | "" => plain(&[r"[\p{P}\$\+<=>\^~\|]+", GPT2_RE, r"\p{N}+", r"[0-9][0-9][0-9]"]),
        other => return Err(TokenizerError::UnsupportedPre(other.to_string())),
    })
}

/// GPT-2's byte-to-character table, inverted: printable Latin-1 bytes stand for themselves,
/// the other bytes were shifted to U+0100 and up.
pub(super) fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut shifted = 0u32;
    let mut map = HashMap::with_capacity(256);
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        map.insert(c, b);
    }
    map
}

/// llama.cpp's token attributes: the GGUF token type, then its overrides by token text.
pub(super) fn token_attrs(ct: &Content, tokens: &[&str]) -> Result<Vec<u16>> {
    const KEY: &str = "tokenizer.ggml.token_type";
    let mut attrs = match ct.metadata.get(KEY) {
        None => vec![ATTR_NORMAL; tokens.len()],
        Some(v) => {
            let types = v.to_vec().map_err(|e| malformed(KEY, e))?;
            if types.len() != tokens.len() {
                let detail = format!("{} types for {} tokens", types.len(), tokens.len());
                return Err(TokenizerError::Malformed { key: KEY, detail });
            }
            let attr = |t: &Value| match integer(t) {
                Some(1) => Ok(ATTR_NORMAL),
                Some(2) => Ok(ATTR_UNKNOWN),
                Some(3) => Ok(ATTR_CONTROL),
                Some(4) => Ok(ATTR_USER_DEFINED),
                Some(5) => Ok(ATTR_UNUSED),
                Some(6) => Ok(ATTR_BYTE),
                Some(_) => Ok(0),
                None => Err(malformed(KEY, format!("{t:?} is not an integer"))),
            };
            types.iter().map(attr).collect::<Result<_>>()?
        }
    };
    let fim = FIM_TEXTS.iter().flat_map(|kind| kind.split_ascii_whitespace());
    let forced: HashSet<&str> = EOG_TEXTS.split_ascii_whitespace().chain(fim).collect();
    for (text, attr) in tokens.iter().zip(attrs.iter_mut()) {
        if forced.contains(text) {
            *attr |= ATTR_CONTROL;
        }
        if *attr & ATTR_CONTROL != 0 && text.contains("unused") {
            *attr |= ATTR_UNUSED;
        }
    }
    Ok(attrs)
}

pub(super) fn end_of_generation_ids(tokens: &[&str], eos: Option<u32>) -> Vec<u32> {
    let ids_of = |texts: &str| -> Vec<u32> {
        let texts: HashSet<&str> = texts.split_ascii_whitespace().collect();
        (0..).zip(tokens).filter(|(_, t)| texts.contains(*t)).map(|(id, _)| id).collect()
    };
    let mut ids: Vec<u32> = eos.into_iter().chain(ids_of(EOG_TEXTS)).collect();
    // llama.cpp keeps one id per FIM kind (the first it meets); take the lowest for stability.
    for kind in &FIM_TEXTS[3..] {
        ids.extend(ids_of(kind).first());
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}
