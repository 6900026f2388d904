//! How a CTranslate2 Whisper model's variables map onto the tensors our backends load.
//!
//! CTranslate2 stores the same weights as OpenAI and Hugging Face, but fuses the attention
//! projections (self-attention q/k/v, cross-attention k/v) along their rows and uses its own
//! names. Splitting a row-major matrix by rows is a byte slice, so the mapping borrows from
//! the model buffer and never copies f16/f32 data. Dimensions come from tensor shapes because
//! CT2's `config.json` only holds decoding metadata.

use std::borrow::Cow;

use super::{Ct2DType, Ct2Error, Ct2Model};
use crate::models::ggml::{self, ElemType, GgmlHparams};

/// Model dimensions (whisper.cpp's hparams) plus the MLP width that HF's config also records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WhisperDims {
    #[serde(flatten)]
    pub hparams: GgmlHparams,
    pub ffn_dim: usize,
}

/// One output tensor under both naming schemes (Hugging Face for candle, OpenAI for ggml).
#[derive(Debug)]
pub struct WhisperTensor<'a> {
    pub hf_name: String,
    pub openai_name: String,
    pub shape: Vec<usize>,
    pub elem: ElemType,
    pub data: Cow<'a, [u8]>,
}

/// Shape of a per-layer tensor in terms of the state width `n` and the MLP width.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Square,
    Up,
    Down,
    Norm,
}

type Part = (&'static str, &'static str, &'static str, Kind);

/// Unfused per-layer tensors: (CT2 path, HF name, OpenAI name, shape).
const SELF_ATTN: [Part; 2] = [
    ("self_attention/linear_1", "self_attn.out_proj", "attn.out", Kind::Square),
    ("self_attention/layer_norm", "self_attn_layer_norm", "attn_ln", Kind::Norm),
];
const CROSS_ATTN: [Part; 3] = [
    ("attention/linear_0", "encoder_attn.q_proj", "cross_attn.query", Kind::Square),
    ("attention/linear_2", "encoder_attn.out_proj", "cross_attn.out", Kind::Square),
    ("attention/layer_norm", "encoder_attn_layer_norm", "cross_attn_ln", Kind::Norm),
];
const MLP: [Part; 3] = [
    ("ffn/linear_0", "fc1", "mlp.0", Kind::Up),
    ("ffn/linear_1", "fc2", "mlp.2", Kind::Down),
    ("ffn/layer_norm", "final_layer_norm", "mlp_ln", Kind::Norm),
];
/// Fused projections, in CT2's row order: (HF name, OpenAI name) of each block of rows.
const SELF_QKV: [(&str, &str); 3] = [
    ("self_attn.q_proj", "attn.query"),
    ("self_attn.k_proj", "attn.key"),
    ("self_attn.v_proj", "attn.value"),
];
const CROSS_KV: [(&str, &str); 2] =
    [("encoder_attn.k_proj", "cross_attn.key"), ("encoder_attn.v_proj", "cross_attn.value")];

pub fn whisper_dims(m: &Ct2Model) -> Result<WhisperDims, Ct2Error> {
    let shape = |name: &str, rank: usize| -> Result<Vec<usize>, Ct2Error> {
        let shape = m.require(name)?.shape.clone();
        if shape.len() != rank {
            let (name, expected) = (name.into(), vec![0; rank]);
            return Err(Ct2Error::BadShape { name, shape, expected });
        }
        Ok(shape)
    };
    let count = |side: &str| {
        let has = |i: &usize| m.get(&format!("{side}/layer_{i}/ffn/linear_0/weight")).is_some();
        (0..).take_while(has).count()
    };
    let conv1 = shape("encoder/conv1/weight", 3)?;
    let enc_pe = shape("encoder/position_encodings/encodings", 2)?;
    let dec_pe = shape("decoder/position_encodings/encodings", 2)?;
    let embed = shape("decoder/embeddings/weight", 2)?;
    let ffn_dim = shape("encoder/layer_0/ffn/linear_0/weight", 2)?[0];
    // Recent specs store the head counts; otherwise every Whisper size uses 64-wide heads.
    let heads = |side: &str, n_state: usize| {
        let stored = m.scalar(&format!("{side}/num_heads")).filter(|&h| h > 0);
        stored.map_or(n_state / 64, |h| h as usize)
    };
    let hparams = GgmlHparams {
        n_vocab: embed[0],
        n_audio_ctx: enc_pe[0],
        n_audio_state: conv1[0],
        n_audio_head: heads("encoder", conv1[0]),
        n_audio_layer: count("encoder"),
        n_text_ctx: dec_pe[0],
        n_text_state: embed[1],
        n_text_head: heads("decoder", embed[1]),
        n_text_layer: count("decoder"),
        n_mels: conv1[1],
    };
    Ok(WhisperDims { hparams, ffn_dim })
}

/// A CT2 variable as floats: borrowed when it already is one, dequantized to f16 when it is
/// an int8/int16 weight with a `…_scale` companion (CT2 stores `q = round(w * scale)`).
fn float_var<'a>(m: &'a Ct2Model, name: &str) -> Result<(ElemType, Cow<'a, [u8]>), Ct2Error> {
    let var = m.require(name)?;
    let data = m.data(var);
    if let Some(elem) = var.dtype.float() {
        return Ok((elem, Cow::Borrowed(data)));
    }
    let dtype = var.dtype;
    let unsupported = || Ct2Error::UnsupportedDtype { name: name.into(), dtype };
    let scale_var = m.get(&format!("{name}_scale")).ok_or_else(unsupported)?;
    let scale_elem = scale_var.dtype.float().ok_or_else(unsupported)?;
    let scales: Vec<f32> = ggml::elements(scale_elem, m.data(scale_var)).collect();
    let rows = var.shape.first().copied().unwrap_or(1);
    if rows == 0 || (scales.len() != 1 && scales.len() != rows) {
        return Err(unsupported());
    }
    let per_row = var.shape.iter().product::<usize>() / rows;
    let mut out = Vec::with_capacity(data.len() / dtype.size() * 2);
    for (i, q) in data.chunks_exact(dtype.size()).enumerate() {
        let q = match dtype {
            Ct2DType::I8 => q[0] as i8 as f32,
            Ct2DType::I16 => i16::from_le_bytes([q[0], q[1]]) as f32,
            _ => return Err(unsupported()),
        };
        let scale = scales[if scales.len() == 1 { 0 } else { i / per_row }];
        out.extend_from_slice(&half::f16::from_f32(q / scale).to_le_bytes());
    }
    Ok((ElemType::F16, Cow::Owned(out)))
}

struct Collector<'a> {
    model: &'a Ct2Model,
    out: Vec<WhisperTensor<'a>>,
}

impl<'a> Collector<'a> {
    /// Splits `ct2` by rows into `names.len()` tensors of shape `part`; `None` drops a block.
    fn split(
        &mut self,
        ct2: &str,
        part: &[usize],
        names: Vec<Option<(String, String)>>,
    ) -> Result<(), Ct2Error> {
        let mut expected = part.to_vec();
        expected[0] *= names.len();
        let shape = &self.model.require(ct2)?.shape;
        if *shape != expected {
            let (name, shape) = (ct2.into(), shape.clone());
            return Err(Ct2Error::BadShape { name, shape, expected });
        }
        let (elem, data) = float_var(self.model, ct2)?;
        let step = data.len() / names.len();
        for (i, names) in names.into_iter().enumerate() {
            let Some((hf_name, openai_name)) = names else {
                continue;
            };
            let range = i * step..(i + 1) * step;
            let data = match &data {
                Cow::Borrowed(d) => Cow::Borrowed(&d[range]),
                Cow::Owned(d) => Cow::Owned(d[range].to_vec()),
            };
            let shape = part.to_vec();
            self.out.push(WhisperTensor { hf_name, openai_name, shape, elem, data });
        }
        Ok(())
    }

    fn one(&mut self, ct2: &str, shape: &[usize], hf: &str, oa: &str) -> Result<(), Ct2Error> {
        self.split(ct2, shape, vec![Some((hf.into(), oa.into()))])
    }

    /// A linear layer (`weight` `[out, in]`, `bias`) or, for a 1-D shape, a layer norm
    /// (CT2's `gamma`/`beta`).
    fn affine(&mut self, ct2: &str, hf: &str, oa: &str, shape: &[usize]) -> Result<(), Ct2Error> {
        let (w, b) = if shape.len() == 1 { ("gamma", "beta") } else { ("weight", "bias") };
        self.one(&format!("{ct2}/{w}"), shape, &format!("{hf}.weight"), &format!("{oa}.weight"))?;
        self.one(&format!("{ct2}/{b}"), &shape[..1], &format!("{hf}.bias"), &format!("{oa}.bias"))
    }

    fn fused(
        &mut self,
        ct2: &str,
        blocks: &[(&str, &str)],
        n: usize,
        hf: &str,
        oa: &str,
    ) -> Result<(), Ct2Error> {
        for (t, part) in [("weight", vec![n, n]), ("bias", vec![n])] {
            let names = blocks.iter().map(|(h, o)| {
                // HF and OpenAI have no k bias: a constant added to every key shifts all of a
                // query's scores equally and cancels in the softmax, so dropping it is exact.
                let k_bias = t == "bias" && h.ends_with("k_proj");
                (!k_bias).then(|| (format!("{hf}.{h}.{t}"), format!("{oa}.{o}.{t}")))
            });
            self.split(&format!("{ct2}/{t}"), &part, names.collect())?;
        }
        Ok(())
    }
}

/// Every tensor of the model, split and renamed (biases, norms and embeddings included).
pub fn whisper_tensors<'a>(
    m: &'a Ct2Model,
    d: &WhisperDims,
) -> Result<Vec<WhisperTensor<'a>>, Ct2Error> {
    let h = &d.hparams;
    let (na, nt, ffn) = (h.n_audio_state, h.n_text_state, d.ffn_dim);
    let mut c = Collector { model: m, out: Vec::new() };
    let globals = [
        (
            "encoder/conv1/weight",
            "model.encoder.conv1.weight",
            "encoder.conv1.weight",
            vec![na, h.n_mels, 3],
        ),
        ("encoder/conv1/bias", "model.encoder.conv1.bias", "encoder.conv1.bias", vec![na]),
        (
            "encoder/conv2/weight",
            "model.encoder.conv2.weight",
            "encoder.conv2.weight",
            vec![na, na, 3],
        ),
        ("encoder/conv2/bias", "model.encoder.conv2.bias", "encoder.conv2.bias", vec![na]),
        (
            "encoder/position_encodings/encodings",
            "model.encoder.embed_positions.weight",
            "encoder.positional_embedding",
            vec![h.n_audio_ctx, na],
        ),
        (
            "decoder/embeddings/weight",
            "model.decoder.embed_tokens.weight",
            "decoder.token_embedding.weight",
            vec![h.n_vocab, nt],
        ),
        (
            "decoder/position_encodings/encodings",
            "model.decoder.embed_positions.weight",
            "decoder.positional_embedding",
            vec![h.n_text_ctx, nt],
        ),
    ];
    for (ct2, hf, oa, shape) in &globals {
        c.one(ct2, shape, hf, oa)?;
    }
    let sides = [
        ("encoder", h.n_audio_layer, na, false, "ln_post"),
        ("decoder", h.n_text_layer, nt, true, "ln"),
    ];
    for (side, layers, n, cross, final_ln) in sides {
        for i in 0..layers {
            let ct2 = format!("{side}/layer_{i}");
            let (hf, oa) = (format!("model.{side}.layers.{i}"), format!("{side}.blocks.{i}"));
            c.fused(&format!("{ct2}/self_attention/linear_0"), &SELF_QKV, n, &hf, &oa)?;
            let mut parts = SELF_ATTN.to_vec();
            if cross {
                c.fused(&format!("{ct2}/attention/linear_1"), &CROSS_KV, n, &hf, &oa)?;
                parts.extend(CROSS_ATTN);
            }
            parts.extend(MLP);
            for (path, h_name, o_name, kind) in parts {
                let shape = match kind {
                    Kind::Square => vec![n, n],
                    Kind::Up => vec![ffn, n],
                    Kind::Down => vec![n, ffn],
                    Kind::Norm => vec![n],
                };
                let (h_full, o_full) = (format!("{hf}.{h_name}"), format!("{oa}.{o_name}"));
                c.affine(&format!("{ct2}/{path}"), &h_full, &o_full, &shape)?;
            }
        }
        let (hf, oa) = (format!("model.{side}.layer_norm"), format!("{side}.{final_ln}"));
        c.affine(&format!("{side}/layer_norm"), &hf, &oa, &[n])?;
    }
    Ok(c.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ct2::{parse_model, tests::encode};

    #[test]
    fn int8_weights_are_dequantized_per_row() {
        let q: Vec<u8> = [127i8, -127, 64, 0].iter().map(|&v| v as u8).collect();
        let scales: Vec<u8> = [127f32, 254.0].iter().flat_map(|s| s.to_le_bytes()).collect();
        let vars = [("w", vec![2, 2], 1, q), ("w_scale", vec![2], 0, scales)];
        let m = parse_model(encode("WhisperSpec", &vars, &[]), std::path::Path::new("m")).unwrap();
        let (elem, data) = float_var(&m, "w").unwrap();
        assert_eq!(elem, ElemType::F16);
        let values: Vec<f32> = ggml::elements(elem, &data).collect();
        assert_eq!(values, vec![1.0, -1.0, half::f16::from_f32(64.0 / 254.0).to_f32(), 0.0]);
        // An integer tensor without a scale cannot be interpreted.
        let m = parse_model(
            encode("WhisperSpec", &[("w", vec![1], 3, vec![0; 4])], &[]),
            std::path::Path::new("m"),
        )
        .unwrap();
        assert!(matches!(float_var(&m, "w"), Err(Ct2Error::UnsupportedDtype { .. })));
    }
}
