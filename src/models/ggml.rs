//! Writer for whisper.cpp's legacy `ggml` model file.
//!
//! whisper.cpp loads the layout that its `convert-pt-to-ggml.py` / `convert-h5-to-ggml.py`
//! scripts write, and checks every tensor's name, shape and element type against what its
//! loader allocates, so this follows those scripts exactly: little-endian `i32` header fields,
//! the mel filterbank, the byte-level vocabulary, then the tensors with their dimensions
//! reversed (ggml's `ne[0]` is the innermost one). Tensor names are OpenAI's (`encoder.blocks.0.
//! attn.query.weight`, …), which the caller supplies.

use std::io::{self, Write};

use half::{bf16, f16};

/// `"ggml"` read as a little-endian `u32`: the first four bytes of every file.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// whisper.cpp's `ftype` for "weights in f16, small tensors in f32".
const FTYPE_F16: i32 = 1;
const TENSOR_F32: usize = 0;
const TENSOR_F16: usize = 1;

/// Element type of a source tensor's raw little-endian bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    F32,
    F16,
    BF16,
}

impl ElemType {
    pub fn size(self) -> usize {
        match self {
            ElemType::F32 => 4,
            ElemType::F16 | ElemType::BF16 => 2,
        }
    }
}

/// Model dimensions, in whisper.cpp's naming and header order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GgmlHparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

/// One tensor to write, with its OpenAI name and PyTorch (outermost-first) shape.
#[derive(Debug, Clone, Copy)]
pub struct GgmlTensor<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    pub elem: ElemType,
    pub data: &'a [u8],
}

fn put_i32<W: Write>(w: &mut W, v: usize) -> io::Result<()> {
    let v = i32::try_from(v).map_err(|_| io::Error::other(format!("{v} does not fit an i32")))?;
    w.write_all(&v.to_le_bytes())
}

/// Decodes source elements to `f32`, one at a time, whatever their storage type.
pub(crate) fn elements(elem: ElemType, data: &[u8]) -> impl Iterator<Item = f32> + '_ {
    data.chunks_exact(elem.size()).map(move |c| match elem {
        ElemType::F32 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
        ElemType::F16 => f16::from_le_bytes([c[0], c[1]]).to_f32(),
        ElemType::BF16 => bf16::from_le_bytes([c[0], c[1]]).to_f32(),
    })
}

/// How the conversion scripts store a tensor: conv biases become `[n, 1]` (whisper.cpp
/// allocates them 2-D so they broadcast over time), and 1-D tensors, conv biases and the
/// positional embeddings stay f32 because the loader allocates those as `GGML_TYPE_F32`.
fn stored_layout(name: &str, shape: &[usize]) -> (Vec<usize>, bool) {
    let is_conv_bias = name == "encoder.conv1.bias" || name == "encoder.conv2.bias";
    let shape = if is_conv_bias && shape.len() == 1 { vec![shape[0], 1] } else { shape.to_vec() };
    let as_f32 = shape.len() < 2
        || is_conv_bias
        || name == "encoder.positional_embedding"
        || name == "decoder.positional_embedding";
    (shape, as_f32)
}

/// Writes one tensor record.
fn write_tensor<W: Write>(w: &mut W, t: &GgmlTensor) -> io::Result<()> {
    let expected: usize = t.shape.iter().product::<usize>() * t.elem.size();
    if t.data.len() != expected {
        return Err(io::Error::other(format!(
            "tensor {} has {} bytes, its shape {:?} needs {expected}",
            t.name,
            t.data.len(),
            t.shape
        )));
    }
    let (shape, as_f32) = stored_layout(t.name, t.shape);
    put_i32(w, shape.len())?;
    put_i32(w, t.name.len())?;
    put_i32(w, if as_f32 { TENSOR_F32 } else { TENSOR_F16 })?;
    for &d in shape.iter().rev() {
        put_i32(w, d)?;
    }
    w.write_all(t.name.as_bytes())?;

    // Convert in bounded chunks so a 3 GB model never needs a second full copy in memory.
    let elem_bytes = t.elem.size();
    let mut buf = Vec::with_capacity(1 << 20);
    for chunk in t.data.chunks(elem_bytes << 18) {
        buf.clear();
        match (as_f32, t.elem) {
            (false, ElemType::F16) | (true, ElemType::F32) => buf.extend_from_slice(chunk),
            (true, e) => elements(e, chunk).for_each(|v| buf.extend_from_slice(&v.to_le_bytes())),
            (false, e) => elements(e, chunk)
                .for_each(|v| buf.extend_from_slice(&f16::from_f32(v).to_le_bytes())),
        }
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Writes a complete whisper.cpp model (ftype 1: f16 weights) to `w`.
///
/// `mel_filters` is `n_mels × n_freqs` row-major; `vocab` holds each base token's raw bytes in
/// id order (special tokens excluded: whisper.cpp derives those from `n_vocab`).
/// `progress` receives the running count of tensor bytes read from `tensors`.
pub fn write_ggml<W: Write>(
    w: &mut W,
    hparams: &GgmlHparams,
    mel_filters: &[f32],
    vocab: &[Vec<u8>],
    tensors: &[GgmlTensor],
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    if hparams.n_mels == 0 || !mel_filters.len().is_multiple_of(hparams.n_mels) {
        return Err(io::Error::other("mel filterbank size does not match n_mels"));
    }
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    let h = hparams;
    for v in [
        h.n_vocab,
        h.n_audio_ctx,
        h.n_audio_state,
        h.n_audio_head,
        h.n_audio_layer,
        h.n_text_ctx,
        h.n_text_state,
        h.n_text_head,
        h.n_text_layer,
        h.n_mels,
    ] {
        put_i32(w, v)?;
    }
    w.write_all(&FTYPE_F16.to_le_bytes())?;

    put_i32(w, h.n_mels)?;
    put_i32(w, mel_filters.len() / h.n_mels)?;
    for v in mel_filters {
        w.write_all(&v.to_le_bytes())?;
    }

    put_i32(w, vocab.len())?;
    for token in vocab {
        put_i32(w, token.len())?;
        w.write_all(token)?;
    }

    let mut done = 0u64;
    for t in tensors {
        write_tensor(w, t)?;
        done += t.data.len() as u64;
        progress(done);
    }
    w.flush()
}

/// GPT-2's byte-level BPE spells every byte as a printable char; this is the inverse table
/// (`bytes_to_unicode` in OpenAI's tokenizer), indexed by char code point.
fn byte_decoder() -> Vec<Option<u8>> {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
    let mut table = vec![None; 512];
    let mut n = 0usize;
    for b in 0..=255u8 {
        if printable(b) {
            table[b as usize] = Some(b);
        } else {
            table[256 + n] = Some(b);
            n += 1;
        }
    }
    table
}

/// The raw bytes a byte-level BPE token stands for (`"Ġthe"` → `b" the"`), or `None` if the
/// string contains a char outside GPT-2's byte alphabet.
pub fn token_bytes(token: &str, decoder: &[Option<u8>]) -> Option<Vec<u8>> {
    token.chars().map(|c| decoder.get(c as usize).copied().flatten()).collect()
}

/// Base vocabulary of a Hugging Face `tokenizer.json` as raw bytes, in id order: every id
/// below the first added (special) token, which must all be present.
pub fn vocab_from_tokenizer_json(tokenizer: &serde_json::Value) -> Result<Vec<Vec<u8>>, String> {
    let vocab = tokenizer
        .pointer("/model/vocab")
        .and_then(|v| v.as_object())
        .ok_or("no model.vocab object")?;
    let first_special = tokenizer
        .get("added_tokens")
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("id").and_then(|id| id.as_u64()))
        .min()
        .map_or(vocab.len(), |id| id as usize);
    let decoder = byte_decoder();
    let mut out: Vec<Option<Vec<u8>>> = vec![None; first_special];
    for (token, id) in vocab {
        let id = id.as_u64().ok_or_else(|| format!("token {token:?} has no integer id"))? as usize;
        if id >= first_special {
            continue;
        }
        let bytes = token_bytes(token, &decoder)
            .ok_or_else(|| format!("token {token:?} is not byte-level BPE"))?;
        if out[id].replace(bytes).is_some() {
            return Err(format!("token id {id} appears twice"));
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(id, t)| t.ok_or_else(|| format!("token id {id} is missing")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_raw_bytes() {
        let d = byte_decoder();
        assert_eq!(token_bytes("Ġthe", &d).as_deref(), Some(&b" the"[..]));
        assert_eq!(token_bytes("Ċ", &d).as_deref(), Some(&b"\n"[..]));
        assert_eq!(token_bytes("Ã©", &d).as_deref(), Some("é".as_bytes()));
        assert_eq!(token_bytes("€", &d), None);
        // The table is a bijection over all 256 bytes.
        let mut seen: Vec<u8> = d.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..=255).collect::<Vec<u8>>());
    }

    #[test]
    fn tensor_records_follow_the_conversion_scripts() {
        let one = f16::from_f32(1.0).to_le_bytes();
        let bias: Vec<u8> = one.iter().chain(one.iter()).copied().collect();
        let t = GgmlTensor {
            name: "encoder.conv1.bias",
            shape: &[2],
            elem: ElemType::F16,
            data: &bias,
        };
        let mut out = Vec::new();
        write_tensor(&mut out, &t).unwrap();
        let ints: Vec<i32> =
            out[..20].chunks(4).map(|c| i32::from_le_bytes(c.try_into().unwrap())).collect();
        // n_dims 2, name length, f32, ne = [1, 2] (reversed from [2, 1]).
        assert_eq!(ints, vec![2, 18, 0, 1, 2]);
        assert_eq!(&out[20..38], b"encoder.conv1.bias");
        assert_eq!(&out[38..], &[1f32.to_le_bytes(), 1f32.to_le_bytes()].concat()[..]);

        let w = [0u8; 12 * 4];
        let t = GgmlTensor {
            name: "encoder.blocks.0.mlp.0.weight",
            shape: &[3, 4],
            elem: ElemType::F32,
            data: &w,
        };
        let mut out = Vec::new();
        write_tensor(&mut out, &t).unwrap();
        assert_eq!(&out[8..12], &1i32.to_le_bytes()); // stored as f16
        assert_eq!(&out[12..20], &[4i32.to_le_bytes(), 3i32.to_le_bytes()].concat()[..]);
        assert_eq!(out.len(), 20 + t.name.len() + 12 * 2);
    }
}
