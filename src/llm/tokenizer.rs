//! A tokenizer rebuilt from a GGUF file's own metadata.
//!
//! None of the GGUF models podbrief uses comes with a `tokenizer.json`, and the vocabulary inside
//! the GGUF is the one the weights were trained with, so it is the only source we trust. The
//! reference is llama.cpp, which wrote these files: token types are overridden by token text the
//! way llama.cpp does it, special tokens are split out before pre-tokenization in llama.cpp's
//! order, and the pre-tokenizer regexes are llama.cpp's own (see the `llama` submodule).
//! Decoding is done here from a byte table rather than by `tokenizers`, so that user-defined and
//! control tokens render as llama.cpp renders them and so a stream can stop mid-character.

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::SplitDelimiterBehavior::Isolated;
use tokenizers::{AddedToken, Tokenizer};

use llama::{
    byte_decoder, end_of_generation_ids, pre_tokenizer, token_attrs, ATTR_CONTROL, ATTR_NORMAL,
    ATTR_UNKNOWN, ATTR_USER_DEFINED,
};

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("the GGUF metadata has no `{0}`")]
    Missing(&'static str),
    #[error("the GGUF metadata `{key}` is malformed: {detail}")]
    Malformed { key: &'static str, detail: String },
    #[error(
        "tokenizer model `{0}` is not supported: only gpt2-style byte-level BPE is \
         (`llama` means a SentencePiece vocabulary)"
    )]
    UnsupportedModel(String),
    #[error("pre-tokenizer `{0}` (tokenizer.ggml.pre) is not supported")]
    UnsupportedPre(String),
    #[error("token id {id} is outside the vocabulary of {size} tokens")]
    UnknownId { id: u32, size: usize },
    #[error("tokenizers: {0}")]
    Tokenizers(String),
}

type Result<T> = std::result::Result<T, TokenizerError>;

fn hf_err(e: tokenizers::Error) -> TokenizerError {
    TokenizerError::Tokenizers(e.to_string())
}

pub struct GgufTokenizer {
    /// Byte-level BPE with the GGUF's vocabulary, merges and pre-tokenizer. Control tokens are
    /// registered as special added tokens but are never split out of text by `inner.encode`
    /// (llama.cpp's `parse_special = false`); [`GgufTokenizer::encode`] handles them instead.
    pub inner: Tokenizer,
    pub bos: Option<u32>,
    pub add_bos: bool,
    /// Every id that ends generation, as llama.cpp decides it: `eos_token_id`, the end-of-turn
    /// and end-of-text markers present in the vocabulary, and the FIM pad/repo/file markers.
    pub eos: Vec<u32>,
    attrs: Vec<u16>,
    /// Ids split out of raw text before BPE, longest text first, as llama.cpp orders them.
    specials: Vec<(String, u32)>,
    /// What each token stands for in text, concatenated; `piece_ends[id]` ends token `id`.
    pieces: Vec<u8>,
    piece_ends: Vec<u32>,
}

impl GgufTokenizer {
    pub fn from_gguf(ct: &Content) -> Result<Self> {
        let model = string(ct, "tokenizer.ggml.model")?
            .ok_or(TokenizerError::Missing("tokenizer.ggml.model"))?;
        if model != "gpt2" {
            return Err(TokenizerError::UnsupportedModel(model.to_string()));
        }
        let pre = string(ct, "tokenizer.ggml.pre")?.unwrap_or("default");
        let pre = pre_tokenizer(pre)?;

        let tokens = string_array(ct, "tokenizer.ggml.tokens")?
            .ok_or(TokenizerError::Missing("tokenizer.ggml.tokens"))?;
        let attrs = token_attrs(ct, &tokens)?;
        let vocab: Vocab =
            tokens.iter().enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect();

        // llama.cpp splits a merge at the first space after its first byte and tolerates merges
        // it can never use; `tokenizers` rejects those, and dropping them keeps the ranks' order.
        let merges = string_array(ct, "tokenizer.ggml.merges")?
            .ok_or(TokenizerError::Missing("tokenizer.ggml.merges"))?
            .into_iter()
            .filter_map(|m| {
                let first = m.chars().next()?.len_utf8();
                let pos = m[first..].find(' ')? + first;
                let (a, b) = (&m[..pos], &m[pos + 1..]);
                let usable = vocab.contains_key(a)
                    && vocab.contains_key(b)
                    && vocab.contains_key(&format!("{a}{b}"));
                usable.then(|| (a.to_string(), b.to_string()))
            })
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .ignore_merges(pre.ignore_merges)
            .build()
            .map_err(hf_err)?;

        let mut steps = Vec::with_capacity(pre.regexes.len() + 1);
        for re in pre.regexes {
            let split = Split::new(SplitPattern::Regex(re.to_string()), Isolated, false);
            steps.push(PreTokenizerWrapper::Split(split.map_err(hf_err)?));
        }
        steps.push(PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, false, false)));
        let mut inner = Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(Sequence::new(steps)));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let special_ids: Vec<u32> = (0..tokens.len() as u32)
            .filter(|&id| {
                attrs[id as usize] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN) != 0
            })
            .collect();
        let added = |control: bool| -> Vec<AddedToken> {
            special_ids
                .iter()
                .filter(|&&id| (attrs[id as usize] & ATTR_USER_DEFINED == 0) == control)
                .map(|&id| AddedToken::from(tokens[id as usize], control).normalized(false))
                .collect()
        };
        inner.add_special_tokens(added(true)).map_err(hf_err)?;
        inner.add_tokens(added(false)).map_err(hf_err)?;
        inner.set_encode_special_tokens(true);

        let mut specials: Vec<(String, u32)> =
            special_ids.iter().map(|&id| (tokens[id as usize].to_string(), id)).collect();
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));

        let byte_of = byte_decoder();
        let (mut pieces, mut piece_ends) = (Vec::new(), Vec::with_capacity(tokens.len()));
        for (text, &attr) in tokens.iter().zip(&attrs) {
            if attr & (ATTR_CONTROL | ATTR_UNKNOWN | ATTR_USER_DEFINED) != 0 {
                pieces.extend_from_slice(text.as_bytes());
            } else if attr & ATTR_NORMAL != 0 {
                for c in text.chars() {
                    match byte_of.get(&c) {
                        Some(&b) => pieces.push(b),
                        None => pieces.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    }
                }
            }
            piece_ends.push(u32::try_from(pieces.len()).map_err(|_| malformed_tokens())?);
        }

        let n = tokens.len();
        let bos = token_id(ct, "tokenizer.ggml.bos_token_id", n)?;
        let eos_id = token_id(ct, "tokenizer.ggml.eos_token_id", n)?;
        let add_bos = flag(ct, "tokenizer.ggml.add_bos_token")?.unwrap_or(pre.add_bos);
        let eos = end_of_generation_ids(&tokens, eos_id);
        Ok(Self { inner, bos, add_bos, eos, attrs, specials, pieces, piece_ends })
    }

    /// Token ids for `text`, without BOS. With `parse_special`, control-token text such as
    /// `<|im_start|>` becomes that token; without it, it is tokenized as plain text (what
    /// untrusted text such as a transcript needs). User-defined tokens are always matched.
    pub fn encode(&self, text: &str, parse_special: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        for fragment in self.partition(text, parse_special) {
            match fragment {
                Fragment::Token(id) => ids.push(id),
                Fragment::Text(t) => {
                    let enc = self.inner.encode_fast(t, false).map_err(hf_err)?;
                    ids.extend_from_slice(enc.get_ids());
                }
            }
        }
        Ok(ids)
    }

    /// Splits special tokens out of `text` exactly as llama.cpp's `tokenizer_st_partition`
    /// does: token by token, longest text first, every occurrence in every remaining fragment.
    fn partition<'t>(&self, text: &'t str, parse_special: bool) -> Vec<Fragment<'t>> {
        let mut fragments = vec![Fragment::Text(text)];
        for (special, id) in &self.specials {
            if !parse_special && self.attrs[*id as usize] & (ATTR_CONTROL | ATTR_UNKNOWN) != 0 {
                continue;
            }
            let mut next = Vec::with_capacity(fragments.len());
            for fragment in fragments {
                let Fragment::Text(mut rest) = fragment else {
                    next.push(fragment);
                    continue;
                };
                while let Some(at) = rest.find(special.as_str()) {
                    if at > 0 {
                        next.push(Fragment::Text(&rest[..at]));
                    }
                    next.push(Fragment::Token(*id));
                    rest = &rest[at + special.len()..];
                }
                if !rest.is_empty() {
                    next.push(Fragment::Text(rest));
                }
            }
            fragments = next;
        }
        fragments.retain(|f| !matches!(f, Fragment::Text("")));
        fragments
    }

    /// The text for `ids`; control tokens are left out, as llama.cpp leaves them out when not
    /// asked to render specials. Bytes that are not valid UTF-8 become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let mut bytes = Vec::new();
        for &id in ids {
            bytes.extend_from_slice(self.token_bytes(id, false)?);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The bytes token `id` stands for; control tokens give their text only with `special`.
    /// One token may hold part of a UTF-8 character, hence bytes, not text.
    pub fn token_bytes(&self, id: u32, special: bool) -> Result<&[u8]> {
        let i = id as usize;
        let unknown = || TokenizerError::UnknownId { id, size: self.vocab_size() };
        let end = *self.piece_ends.get(i).ok_or_else(unknown)? as usize;
        let start = if i == 0 { 0 } else { self.piece_ends[i - 1] as usize };
        if !special && self.attrs[i] & (ATTR_CONTROL | ATTR_UNKNOWN) != 0 {
            return Ok(&[]);
        }
        self.pieces.get(start..end).ok_or_else(unknown)
    }

    /// The vocabulary entry for `id` as the GGUF stores it (byte-level form, e.g. `Ġthe`).
    pub fn token_str(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn vocab_size(&self) -> usize {
        self.piece_ends.len()
    }

    pub fn is_eog(&self, id: u32) -> bool {
        self.eos.contains(&id)
    }

    /// A decoder for tokens arriving one at a time, as a generator produces them.
    pub fn stream_decoder(&self) -> StreamDecoder<'_> {
        StreamDecoder { tokenizer: self, pending: Vec::new() }
    }
}

enum Fragment<'t> {
    Text(&'t str),
    Token(u32),
}

/// Incremental detokenizer: a token may end in the middle of a UTF-8 character (byte-level BPE
/// splits emoji and CJK characters across tokens), so bytes wait until the character is whole.
pub struct StreamDecoder<'a> {
    tokenizer: &'a GgufTokenizer,
    pending: Vec<u8>,
}

impl StreamDecoder<'_> {
    /// Adds one token; returns the text that became complete, if any.
    pub fn push(&mut self, id: u32) -> Result<Option<String>> {
        self.pending.extend_from_slice(self.tokenizer.token_bytes(id, false)?);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    // An invalid sequence can never complete; a cut-off one at the end still can.
                    let Some(bad) = e.error_len() else {
                        self.pending.drain(..valid);
                        break;
                    };
                    out.push(char::REPLACEMENT_CHARACTER);
                    self.pending.drain(..valid + bad);
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// Whatever is left when generation stops (an unfinished character becomes U+FFFD).
    pub fn finish(&mut self) -> Option<String> {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        (!rest.is_empty()).then_some(rest)
    }
}

fn malformed(key: &'static str, detail: impl ToString) -> TokenizerError {
    TokenizerError::Malformed { key, detail: detail.to_string() }
}

fn malformed_tokens() -> TokenizerError {
    malformed("tokenizer.ggml.tokens", "the vocabulary text exceeds 4 GiB")
}

fn string<'a>(ct: &'a Content, key: &'static str) -> Result<Option<&'a str>> {
    ct.metadata
        .get(key)
        .map(|v| v.to_string().map(String::as_str).map_err(|e| malformed(key, e)))
        .transpose()
}

fn string_array<'a>(ct: &'a Content, key: &'static str) -> Result<Option<Vec<&'a str>>> {
    let Some(v) = ct.metadata.get(key) else { return Ok(None) };
    let items = v.to_vec().map_err(|e| malformed(key, e))?;
    let strings =
        items.iter().map(|s| s.to_string().map(String::as_str).map_err(|e| malformed(key, e)));
    strings.collect::<Result<Vec<_>>>().map(Some)
}

fn integer(v: &Value) -> Option<i64> {
    match *v {
        Value::U8(x) => Some(x.into()),
        Value::I8(x) => Some(x.into()),
        Value::U16(x) => Some(x.into()),
        Value::I16(x) => Some(x.into()),
        Value::U32(x) => Some(x.into()),
        Value::I32(x) => Some(x.into()),
        Value::U64(x) => i64::try_from(x).ok(),
        Value::I64(x) => Some(x),
        _ => None,
    }
}

/// A special-token id; like llama.cpp, one outside the vocabulary is ignored rather than fatal.
fn token_id(ct: &Content, key: &'static str, n_vocab: usize) -> Result<Option<u32>> {
    let Some(v) = ct.metadata.get(key) else { return Ok(None) };
    let id = integer(v).ok_or_else(|| malformed(key, format!("{v:?} is not an integer")))?;
    Ok(u32::try_from(id).ok().filter(|&id| (id as usize) < n_vocab))
}

fn flag(ct: &Content, key: &'static str) -> Result<Option<bool>> {
    ct.metadata.get(key).map(|v| v.to_bool().map_err(|e| malformed(key, e))).transpose()
}

mod llama;
#[cfg(test)]
mod tests;
