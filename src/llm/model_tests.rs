//! The model against candle-transformers' reference implementations of the same architectures,
//! on the real weights. Ours re-quantizes Q4/Q5 tensors to Q8_0 and keeps embeddings quantized,
//! so the logits are close rather than equal; the greedy choice must agree.

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};

use super::*;
use crate::embed::cosine;
use crate::llm::gguf::Gguf;

fn model_path(name: &str) -> std::path::PathBuf {
    crate::models::stored_for_test(name, "model.gguf")
}

enum Reference {
    Qwen2(candle_transformers::models::quantized_qwen2::ModelWeights),
    Llama(candle_transformers::models::quantized_llama::ModelWeights),
}

impl Reference {
    fn load(path: &std::path::Path) -> Reference {
        let mut f = std::fs::File::open(path).unwrap();
        let ct = gguf_file::Content::read(&mut f).unwrap();
        let arch = ct.metadata["general.architecture"].to_string().unwrap().clone();
        let dev = Device::Cpu;
        match arch.as_str() {
            "qwen2" => Reference::Qwen2(
                candle_transformers::models::quantized_qwen2::ModelWeights::from_gguf(
                    ct, &mut f, &dev,
                )
                .unwrap(),
            ),
            _ => Reference::Llama(
                candle_transformers::models::quantized_llama::ModelWeights::from_gguf(
                    ct, &mut f, &dev,
                )
                .unwrap(),
            ),
        }
    }

    fn forward(&mut self, ids: &[u32], pos: usize) -> Vec<f32> {
        let x = Tensor::new(ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let l = match self {
            Reference::Qwen2(m) => m.forward(&x, pos).unwrap(),
            Reference::Llama(m) => m.forward(&x, pos).unwrap(),
        };
        l.flatten_all().unwrap().to_vec1().unwrap()
    }
}

fn top(v: &[f32]) -> usize {
    v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap()
}

fn check(name: &str) {
    let path = model_path(name);
    let mut reference = Reference::load(&path);
    let mut g = Gguf::open(&path).unwrap();
    let mut ours = Model::load(&mut g, &Device::Cpu, 1024).unwrap();
    // Arbitrary but fixed ordinary token ids; 300 of them crosses a prefill chunk boundary.
    let ids: Vec<u32> = (0..300u32).map(|i| 1000 + (i * 7919) % 20000).collect();
    let a = reference.forward(&ids, 0);
    let b = ours.forward(&ids).unwrap().to_vec1::<f32>().unwrap();
    assert!(cosine(&a, &b) > 0.99, "{name}: prompt logits cosine {}", cosine(&a, &b));
    assert_eq!(top(&a), top(&b), "{name}: greedy choice after the prompt");
    // Then a few single-token steps through the cache.
    for (i, &t) in [11u32, 220, 3000].iter().enumerate() {
        let a = reference.forward(&[t], ids.len() + i);
        let b = ours.forward(&[t]).unwrap().to_vec1::<f32>().unwrap();
        assert!(cosine(&a, &b) > 0.99, "{name}: step {i} cosine {}", cosine(&a, &b));
    }
    // Rewinding and replaying gives the same logits as the first time.
    ours.rewind(ids.len());
    let again = ours.forward(&[11]).unwrap().to_vec1::<f32>().unwrap();
    let mut fresh = Model::load(&mut Gguf::open(&path).unwrap(), &Device::Cpu, 1024).unwrap();
    fresh.forward(&ids).unwrap();
    let first = fresh.forward(&[11]).unwrap().to_vec1::<f32>().unwrap();
    assert!(cosine(&again, &first) > 0.9999);
}

#[test]
fn qwen2_matches_candle_reference() {
    check("qwen2.5-coder-0.5b-instruct");
}

#[test]
fn llama_matches_candle_reference() {
    check("smollm2-135m-instruct");
}

#[test]
fn context_overflow_is_an_error() {
    let path = model_path("smollm2-135m-instruct");
    let mut m = Model::load(&mut Gguf::open(&path).unwrap(), &Device::Cpu, 16).unwrap();
    m.forward(&[1, 2, 3]).unwrap();
    let e = m.forward(&[5; 14]).err().unwrap();
    assert!(matches!(e, LlmError::ContextFull { needed: 17, n_ctx: 16 }), "{e}");
}
