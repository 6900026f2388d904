//! Checks against sentence-transformers' own output (`scripts/make-embed-fixture.py`). They
//! need the model on disk and fail, saying how to get it, when it is absent.

use std::path::{Path, PathBuf};

use candle_core::Device;

use super::*;

fn model_dir() -> Option<PathBuf> {
    let weights = crate::models::stored_for_test(DEFAULT_MODEL, "model.safetensors");
    weights.parent().map(Path::to_path_buf)
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/embed")
}

struct Fixture {
    sentences: Vec<String>,
    reference: Vec<Vec<f32>>,
    pairs: Vec<(usize, usize, bool)>,
}

fn fixture(dim: usize) -> Fixture {
    let dir = fixture_dir();
    let text = std::fs::read_to_string(dir.join("sentences.txt")).expect("sentences.txt");
    let sentences: Vec<String> = text.lines().map(str::to_string).collect();
    let bytes = std::fs::read(dir.join("reference.f32")).expect("reference.f32");
    let floats: Vec<f32> =
        bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let reference: Vec<Vec<f32>> = floats.chunks(dim).map(<[f32]>::to_vec).collect();
    assert_eq!(reference.len(), sentences.len(), "fixture rows vs sentences");
    let pairs = std::fs::read_to_string(dir.join("pairs.tsv"))
        .expect("pairs.tsv")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2] == "paraphrase")
        })
        .collect();
    Fixture { sentences, reference, pairs }
}

fn load(engine: Engine) -> Option<Embedder> {
    let dir = model_dir()?;
    Some(Embedder::load_with(&dir, &Device::Cpu, engine).expect("load model"))
}

fn check_reference(engine: Engine) {
    let Some(e) = load(engine) else { return };
    let fx = fixture(e.dim());
    let refs: Vec<&str> = fx.sentences.iter().map(String::as_str).collect();
    let ours = e.embed(&refs).unwrap();
    assert_eq!(ours.len(), refs.len());
    let mut worst = (f32::MAX, 0);
    for (i, (a, b)) in ours.iter().zip(&fx.reference).enumerate() {
        assert_eq!(a.len(), 384);
        let c = cosine(a, b);
        if c < worst.0 {
            worst = (c, i);
        }
    }
    eprintln!(
        "{engine:?}: min cosine vs sentence-transformers {:.7} (1 - {:.1e}, line {})",
        worst.0,
        1.0 - worst.0,
        worst.1
    );
    assert!(worst.0 >= 0.999, "line {}: cosine {} ({:?})", worst.1, worst.0, refs[worst.1]);
}

#[test]
fn matches_sentence_transformers_packed() {
    check_reference(Engine::Packed);
}

#[test]
fn matches_sentence_transformers_padded() {
    check_reference(Engine::Padded);
}

#[test]
fn paraphrases_beat_unrelated() {
    let Some(e) = load(Engine::Auto) else { return };
    let fx = fixture(e.dim());
    let refs: Vec<&str> = fx.sentences.iter().map(String::as_str).collect();
    let v = e.embed(&refs).unwrap();
    let (para, unrel): (Vec<&(usize, usize, bool)>, Vec<_>) = fx.pairs.iter().partition(|p| p.2);
    let min_para = para.iter().map(|p| cosine(&v[p.0], &v[p.1])).fold(f32::MAX, f32::min);
    let max_unrel = unrel.iter().map(|p| cosine(&v[p.0], &v[p.1])).fold(f32::MIN, f32::max);
    assert!(min_para > max_unrel, "paraphrase min {min_para} <= unrelated max {max_unrel}");
}

#[test]
fn batch_equals_single_and_keeps_order() {
    let Some(e) = load(Engine::Auto) else { return };
    let fx = fixture(e.dim());
    // Reversed so that the length sort really reorders; the long line lands in its own batch.
    let refs: Vec<&str> = fx.sentences.iter().rev().map(String::as_str).collect();
    let batch = e.embed(&refs).unwrap();
    for (i, text) in refs.iter().enumerate() {
        let single = e.embed(&[text]).unwrap();
        let c = cosine(&batch[i], &single[0]);
        assert!(c > 0.99999, "line {i}: batch vs single cosine {c}");
    }
}

#[test]
fn padded_and_packed_agree() {
    let (Some(packed), Some(padded)) = (load(Engine::Packed), load(Engine::Padded)) else {
        return;
    };
    let fx = fixture(packed.dim());
    let refs: Vec<&str> = fx.sentences.iter().map(String::as_str).collect();
    let a = packed.embed(&refs).unwrap();
    let b = padded.embed(&refs).unwrap();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(cosine(x, y) > 0.99999, "line {i}: {}", cosine(x, y));
    }
}

#[test]
fn empty_input_and_empty_strings() {
    let Some(e) = load(Engine::Auto) else { return };
    assert!(e.embed(&[]).unwrap().is_empty());
    let t = e.embed_tensor(&[]).unwrap();
    assert_eq!(t.dims(), &[0, e.dim()]);
    let v = e.embed(&["", "hello", ""]).unwrap();
    assert_eq!(v.len(), 3);
    let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "empty string norm {norm}");
    assert_eq!(v[0], v[2]);
}

#[test]
fn truncates_at_max_seq_len() {
    let Some(e) = load(Engine::Auto) else { return };
    assert_eq!(e.max_seq_len(), 256);
    let long = "word ".repeat(1000);
    assert_eq!(e.tokenize(&[&long]).unwrap()[0].len(), 256);
}

#[test]
fn missing_files_name_the_file_and_the_fetch_command() {
    let dir = std::env::temp_dir().join(format!("podbrief-embed-missing-{}", std::process::id()));
    let dir = dir.join(DEFAULT_MODEL);
    std::fs::create_dir_all(&dir).unwrap();
    let msg = match Embedder::load(&dir, &Device::Cpu) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded from an empty directory"),
    };
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    assert!(msg.contains("config.json"), "{msg}");
    assert!(msg.contains("podbrief models fetch all-minilm-l6-v2"), "{msg}");
}

#[test]
fn pooling_config() {
    let dir = std::env::temp_dir().join(format!("podbrief-embed-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    let write = |json: &str| std::fs::write(&path, json).unwrap();
    write(r#"{"pooling_mode_cls_token": true}"#);
    assert_eq!(read_pooling(&path).unwrap(), Pooling::Cls);
    write(r#"{"pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false}"#);
    assert_eq!(read_pooling(&path).unwrap(), Pooling::Mean);
    write(r#"{"pooling_mode_lasttoken": true, "pooling_mode_mean_tokens": false}"#);
    let err = read_pooling(&path).unwrap_err().to_string();
    assert!(err.contains("lasttoken"), "{err}");
    write(r#"{"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true}"#);
    assert!(read_pooling(&path).is_err());
    write(r#"{"embedding_dimension": 384, "pooling_mode": "cls", "include_prompt": true}"#);
    assert_eq!(read_pooling(&path).unwrap(), Pooling::Cls);
    write(r#"{"pooling_mode": ["mean_sqrt_len_tokens"]}"#);
    assert_eq!(read_pooling(&path).unwrap(), Pooling::MeanSqrtLen);
    write(r#"{"pooling_mode": ["mean", "max"]}"#);
    let err = read_pooling(&path).unwrap_err().to_string();
    assert!(err.contains("mean+max"), "{err}");
    assert_eq!(read_pooling(&dir.join("absent.json")).unwrap(), Pooling::Mean);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pool_and_cosine() {
    let t = [1.0, 2.0, 3.0, 0.0, 5.0, -2.0];
    assert_eq!(pool(&t, 2, Pooling::Mean), vec![3.0, 0.0]);
    assert_eq!(pool(&t, 2, Pooling::Cls), vec![1.0, 2.0]);
    assert_eq!(pool(&t, 2, Pooling::Max), vec![5.0, 2.0]);
    assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    assert_eq!(cosine(&[1.0], &[1.0, 1.0]), 0.0);
}
