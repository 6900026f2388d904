//! Sentence embeddings with a sentence-transformers BERT model (all-MiniLM-L6-v2 by default).
//!
//! The output is meant to be interchangeable with `SentenceTransformer.encode(...,
//! normalize_embeddings=True)` on the same model directory: same tokenisation, same
//! truncation length, same pooling, unit-length vectors.
//!
//! On the CPU the encoder runs on *packed* sequences (see `packed.rs`): the tokens of a whole
//! batch are concatenated without padding and attention is computed per sentence, so no work is
//! spent on pad tokens. Other devices use candle's padded [`BertModel`] with batches of similar
//! length.
//!
//! Threads come from rayon's global pool (`RAYON_NUM_THREADS`, or a `--threads` that builds the
//! pool before the first call). With many sentences each thread encodes whole batches on its
//! own; with few, every operation is split over the threads.

mod config;
mod kernels;
mod packed;
mod pool;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationParams};

use config::{read_json, read_pooling, SentenceBertConfig};
pub use pool::cosine;
use pool::{normalize, pool};

/// The model `podbrief` embeds with unless told otherwise.
pub const DEFAULT_MODEL: &str = "all-minilm-l6-v2";

/// sentence-transformers' `max_seq_length` for all-MiniLM-L6-v2, used when the model
/// directory has no `sentence_bert_config.json` to say otherwise.
const DEFAULT_MAX_SEQ_LEN: usize = 256;

/// Most tokens per forward pass on the packed engine. Every matrix product repacks its
/// weights, so fewer, larger batches are cheaper, up to where the last batches leave a
/// thread idle (measured: 2048 beat 512, 1024 and 4096 on 1,000 sentences). Activations take
/// about 15 KiB per token.
const PACKED_TOKEN_BUDGET: usize = 2048;
/// Fewest tokens per batch worth giving a thread of its own.
const PACKED_MIN_TOKENS: usize = 128;

/// Padded engine: at most this many sentences, and this many tokens including padding.
const PADDED_MAX_BATCH: usize = 32;
const PADDED_TOKEN_BUDGET: usize = 32 * 128;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model file {} is missing; fetch the model with `podbrief models fetch {model}`", path.display())]
    MissingFile { path: PathBuf, model: String },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid model configuration: {source}", path.display())]
    Config {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot load tokenizer {}: {source}", path.display())]
    TokenizerLoad {
        path: PathBuf,
        #[source]
        source: tokenizers::Error,
    },
    #[error("tokenizer failed: {0}")]
    Tokenize(#[source] tokenizers::Error),
    #[error("unsupported pooling in {}: {mode} (supported: mean, cls, max, mean_sqrt_len)", path.display())]
    UnsupportedPooling { path: PathBuf, mode: String },
    #[error("unsupported model: {0}")]
    UnsupportedModel(String),
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("encoder: {0}")]
    Encode(String),
}

/// How token vectors become one sentence vector (`1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
    Max,
    MeanSqrtLen,
}

/// Which encoder implementation runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Packed on the CPU, padded elsewhere.
    #[default]
    Auto,
    /// Padding-free batches; CPU only.
    Packed,
    /// candle's `BertModel` on padded batches of similar length; any device.
    Padded,
}

enum Encoder {
    Packed(packed::PackedBert),
    Padded(BertModel),
}

pub struct Embedder {
    tokenizer: Tokenizer,
    encoder: Encoder,
    pooling: Pooling,
    dim: usize,
    max_seq_len: usize,
    device: Device,
}

impl Embedder {
    /// Loads the model in `dir` (a sentence-transformers directory: `config.json`,
    /// `model.safetensors`, `tokenizer.json`, optionally `1_Pooling/config.json` and
    /// `sentence_bert_config.json`).
    pub fn load(dir: &Path, device: &Device) -> Result<Embedder, EmbedError> {
        Self::load_with(dir, device, Engine::Auto)
    }

    pub fn load_with(dir: &Path, device: &Device, engine: Engine) -> Result<Embedder, EmbedError> {
        let model = dir
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .unwrap_or(DEFAULT_MODEL)
            .to_string();
        let require = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(EmbedError::MissingFile { path, model: model.clone() })
            }
        };
        let config_path = require("config.json")?;
        let weights_path = require("model.safetensors")?;
        let tokenizer_path = require("tokenizer.json")?;

        let config: Config = read_json(&config_path)?;
        if config.num_attention_heads == 0
            || !config.hidden_size.is_multiple_of(config.num_attention_heads)
        {
            return Err(EmbedError::UnsupportedModel(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden_size, config.num_attention_heads
            )));
        }
        let pooling = read_pooling(&dir.join("1_Pooling").join("config.json"))?;

        let st_config = dir.join("sentence_bert_config.json");
        let max_seq_len = if st_config.is_file() {
            read_json::<SentenceBertConfig>(&st_config)?.max_seq_length
        } else {
            None
        }
        .unwrap_or(DEFAULT_MAX_SEQ_LEN)
        .min(config.max_position_embeddings);

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|source| EmbedError::TokenizerLoad { path: tokenizer_path.clone(), source })?;
        // tokenizer.json pads and truncates everything to 128 tokens; sentence-transformers
        // overrides both per call (longest in batch, `max_seq_length`). The encoders below
        // build their own batches, so no padding at all here.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_len,
                ..Default::default()
            }))
            .map_err(|source| EmbedError::TokenizerLoad { path: tokenizer_path.clone(), source })?;

        let use_packed = match engine {
            Engine::Auto => device.is_cpu(),
            Engine::Packed if !device.is_cpu() => {
                return Err(EmbedError::UnsupportedModel(
                    "the packed encoder runs on the CPU only".into(),
                ))
            }
            Engine::Packed => true,
            Engine::Padded => false,
        };
        let io_err = |source| EmbedError::Io { path: weights_path.clone(), source };
        let file = std::fs::File::open(&weights_path).map_err(io_err)?;
        // Mapped rather than read: reading copies 90 MB into fresh pages, which took longer
        // than everything else in loading; the word-embedding table (half the file) is then
        // only ever touched row by row. SAFETY: the map is read-only and private to this
        // process; like every mmap user (candle's own loader included) we rely on the model
        // file not being truncated or rewritten while it is in use.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err)?;
        let encoder = if use_packed {
            let model = packed::PackedBert::load(map, &config)
                .map_err(|message| EmbedError::Weights { path: weights_path.clone(), message })?;
            Encoder::Packed(model)
        } else {
            let vb = VarBuilder::from_slice_safetensors(&map, DType::F32, device)?;
            Encoder::Padded(BertModel::load(vb, &config)?)
        };
        Ok(Embedder {
            tokenizer,
            encoder,
            pooling,
            dim: config.hidden_size,
            max_seq_len,
            device: device.clone(),
        })
    }

    /// Length of every embedding.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Longest input in tokens (special tokens included); longer texts are truncated.
    pub fn max_seq_len(&self) -> usize {
        self.max_seq_len
    }

    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Token ids as the encoder sees them: with `[CLS]`/`[SEP]`, truncated.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EmbedError> {
        let encodings =
            self.tokenizer.encode_batch_fast(texts.to_vec(), true).map_err(EmbedError::Tokenize)?;
        Ok(encodings.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// One unit-length vector per text, in input order. An empty string still gets a vector
    /// (that of `[CLS] [SEP]`), as in sentence-transformers.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.tokenize(texts)?;
        self.embed_ids(&ids)
    }

    /// [`Embedder::embed`] as an `(n, dim)` tensor on the model's device.
    pub fn embed_tensor(&self, texts: &[&str]) -> Result<Tensor, EmbedError> {
        let rows = self.embed(texts)?;
        let n = rows.len();
        let flat: Vec<f32> = rows.into_iter().flatten().collect();
        Ok(Tensor::from_vec(flat, (n, self.dim), &self.device)?)
    }

    /// Embeds already tokenised sequences (as from [`Embedder::tokenize`]).
    pub fn embed_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Similar lengths side by side: the padded engine pads less, and the packed engine's
        // batches cost about the same, which balances the threads.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let threads = rayon::current_num_threads().max(1);
        let total: usize = ids.iter().map(Vec::len).sum();

        let pooled: Vec<Vec<Vec<f32>>> = match &self.encoder {
            // Enough work for several batches per thread: each thread runs whole batches on
            // its own, with no synchronisation inside the network.
            Encoder::Packed(model) if threads > 1 && total >= 2 * threads * PACKED_MIN_TOKENS => {
                let budget = (total / (4 * threads)).clamp(PACKED_MIN_TOKENS, PACKED_TOKEN_BUDGET);
                Self::batches(&order, ids, usize::MAX, budget, false)
                    .par_iter()
                    .map_init(packed::Workspace::default, |ws, batch| {
                        self.encode_packed(model, batch, ids, 1, ws)
                    })
                    .collect::<Result<_, _>>()?
            }
            // Little work: each operation split over the threads instead.
            Encoder::Packed(model) => {
                let mut ws = packed::Workspace::default();
                Self::batches(&order, ids, usize::MAX, PACKED_TOKEN_BUDGET, false)
                    .iter()
                    .map(|batch| self.encode_packed(model, batch, ids, threads, &mut ws))
                    .collect::<Result<_, _>>()?
            }
            Encoder::Padded(model) => {
                Self::batches(&order, ids, PADDED_MAX_BATCH, PADDED_TOKEN_BUDGET, true)
                    .iter()
                    .map(|batch| self.encode_padded(model, batch, ids))
                    .collect::<Result<_, _>>()?
            }
        };

        let mut out = vec![Vec::new(); ids.len()];
        for (&i, v) in order.iter().zip(pooled.into_iter().flatten()) {
            out[i] = v;
        }
        Ok(out)
    }

    /// Splits `order` into consecutive batches of at most `max_batch` sentences and `budget`
    /// tokens (counting padding when `padded`); a sentence over the budget goes alone.
    fn batches<'a>(
        order: &'a [usize],
        ids: &[Vec<u32>],
        max_batch: usize,
        budget: usize,
        padded: bool,
    ) -> Vec<&'a [usize]> {
        let mut batches = Vec::new();
        let mut start = 0;
        let mut tokens = 0;
        for (pos, &i) in order.iter().enumerate() {
            let len = ids[i].len().max(1);
            let n = pos - start;
            // Sorted ascending, so in a padded batch every row is as long as the newest one.
            let cost = if padded { len * (n + 1) } else { tokens + len };
            if n > 0 && (n >= max_batch || cost > budget) {
                batches.push(&order[start..pos]);
                start = pos;
                tokens = 0;
            }
            tokens += len;
        }
        if start < order.len() {
            batches.push(&order[start..]);
        }
        batches
    }

    /// Pooled, normalised vectors for the sentences `batch` indexes into `ids`, in batch order.
    fn encode_packed(
        &self,
        model: &packed::PackedBert,
        batch: &[usize],
        ids: &[Vec<u32>],
        threads: usize,
        ws: &mut packed::Workspace,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let seqs: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
        let hidden = model.forward(&seqs, threads, ws).map_err(EmbedError::Encode)?;
        let mut start = 0;
        let spans = seqs.iter().map(|s| {
            start += s.len();
            (start - s.len(), s.len())
        });
        Ok(self.pool_rows(hidden, spans))
    }

    /// As [`Embedder::encode_packed`], on padded rows of equal length.
    fn encode_padded(
        &self,
        model: &BertModel,
        batch: &[usize],
        ids: &[Vec<u32>],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let width = batch.iter().map(|&i| ids[i].len()).max().unwrap_or(0);
        let mut input = vec![0u32; batch.len() * width];
        let mut mask = vec![0u32; batch.len() * width];
        for (row, &i) in batch.iter().enumerate() {
            input[row * width..][..ids[i].len()].copy_from_slice(&ids[i]);
            mask[row * width..][..ids[i].len()].fill(1);
        }
        let shape = (batch.len(), width);
        let input = Tensor::from_vec(input, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        let hidden = model.forward(&input, &input.zeros_like()?, Some(&mask))?;
        // Pooled on the host, skipping the padding rows, with the same code as the packed
        // engine; a batch's hidden states are at most a few MB.
        let hidden = hidden.flatten_all()?.to_vec1::<f32>()?;
        let spans = batch.iter().enumerate().map(|(row, &i)| (row * width, ids[i].len()));
        Ok(self.pool_rows(&hidden, spans))
    }

    /// One normalised vector per `(first row, rows)` span of `hidden` (rows of `dim`).
    fn pool_rows(
        &self,
        hidden: &[f32],
        spans: impl Iterator<Item = (usize, usize)>,
    ) -> Vec<Vec<f32>> {
        let dim = self.dim;
        spans
            .map(|(start, len)| {
                let mut v = pool(&hidden[start * dim..(start + len) * dim], dim, self.pooling);
                normalize(&mut v);
                v
            })
            .collect()
    }
}
