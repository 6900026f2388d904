//! The tokenizer is checked against llama.cpp's own token ids for a corpus (fixtures written by
//! scripts/make-tokenizer-fixture.py), on the real GGUFs (fetched by scripts/setup.sh), and against a
//! tiny vocabulary built here so that the plumbing is tested everywhere.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::quantized::gguf_file::VersionedMagic;
use serde_json::Value as Json;

use super::llama::{byte_decoder, ATTR_NORMAL};
use super::*;

const QWEN: &str = "qwen2.5-coder-0.5b-instruct";
const SMOLLM: &str = "smollm2-135m-instruct";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/llm")
}

pub(crate) fn model_path(name: &str) -> Option<PathBuf> {
    Some(crate::models::stored_for_test(name, "model.gguf"))
}

pub(crate) fn read_gguf(path: &std::path::Path) -> Content {
    let mut file = std::fs::File::open(path).expect("open the GGUF");
    Content::read(&mut file).expect("read the GGUF metadata")
}

fn corpus() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("tokenizer-corpus.txt")).expect("corpus");
    text.split('\n').map(str::to_string).filter(|l| !l.is_empty()).collect()
}

/// The multi-line texts the fixture script builds; keep in step with BLOCK_* there.
fn blocks(lines: &[String]) -> Vec<String> {
    let separators = ["\n", "\n\n", "\r\n"];
    let chunks = lines.chunks(10).enumerate();
    chunks.map(|(k, chunk)| chunk.join(separators[k % separators.len()]) + "\n").collect()
}

fn ids(v: &Json) -> Vec<u32> {
    let list = v.as_array().expect("a list of ids");
    list.iter().map(|x| x.as_u64().expect("an id") as u32).collect()
}

/// Compares every text with llama.cpp's ids and with its own round trip; reports all misses.
fn check_texts(tok: &GgufTokenizer, what: &str, texts: &[String], expected: &Json) -> usize {
    let expected = expected.as_array().expect("a list per text");
    assert_eq!(texts.len(), expected.len(), "{what}: the fixture is for another corpus");
    let mut misses = Vec::new();
    for (i, (text, want)) in texts.iter().zip(expected).enumerate() {
        let (got, want) = (tok.encode(text, false).expect("encode"), ids(want));
        if got != want {
            let show = |ids: &[u32]| ids.iter().map(|&id| tok.token_str(id)).collect::<Vec<_>>();
            misses.push(format!(
                "{what} {i} {text:?}\n  ours {:?}\n  llama.cpp {:?}",
                show(&got),
                show(&want)
            ));
        }
        let back = tok.decode(&got).expect("decode");
        if &back != text {
            misses.push(format!("{what} {i}: round trip gave {back:?} for {text:?}"));
        }
    }
    eprintln!(
        "{what}: {} of {} match llama.cpp and round-trip",
        texts.len() - misses.len(),
        texts.len()
    );
    assert!(misses.is_empty(), "{} misses:\n{}", misses.len(), misses.join("\n"));
    texts.len()
}

fn check_model(name: &str) {
    let Some(path) = model_path(name) else { return };
    let fixture = std::fs::read_to_string(fixtures().join(format!("tokens-{name}.json")));
    let fixture: Json = serde_json::from_str(&fixture.expect("fixture")).expect("fixture JSON");
    let size = std::fs::metadata(&path).expect("model size").len();
    assert_eq!(Some(size), fixture["size"].as_u64(), "{name}: not the GGUF the fixture is for");
    let tok = GgufTokenizer::from_gguf(&read_gguf(&path)).expect("tokenizer");

    let lines = corpus();
    check_texts(&tok, &format!("{name} line"), &lines, &fixture["lines"]);
    check_texts(&tok, &format!("{name} block"), &blocks(&lines), &fixture["blocks"]);
    let special = fixture["special"].as_object().expect("special ids");
    assert!(!special.is_empty());
    for (i, want) in special {
        let line = &lines[i.parse::<usize>().expect("line index")];
        assert_eq!(tok.encode(line, true).expect("encode"), ids(want), "{name}: special {line:?}");
    }

    assert_eq!(tok.bos, fixture["bos"].as_u64().map(|id| id as u32));
    assert_eq!(tok.add_bos, fixture["add_bos"].as_bool().expect("add_bos"));
    assert_eq!(tok.eos, ids(&fixture["eog"]), "{name}: end-of-generation ids");
    let attrs = fixture["attrs"].as_object().expect("attrs");
    for (id, attr) in tok.attrs.iter().enumerate() {
        let want =
            attrs.get(&id.to_string()).map_or(ATTR_NORMAL as u64, |a| a.as_u64().unwrap_or(0));
        assert_eq!(*attr as u64, want, "{name}: attributes of token {id}");
    }
}

#[test]
fn qwen2_matches_llama_cpp() {
    check_model(QWEN);
}

#[test]
fn smollm2_matches_llama_cpp() {
    check_model(SMOLLM);
}

#[test]
fn parse_special_decides_whether_control_tokens_are_parsed() {
    for name in [QWEN, SMOLLM] {
        let Some(path) = model_path(name) else { continue };
        let tok = GgufTokenizer::from_gguf(&read_gguf(&path)).expect("tokenizer");
        let im_start = tok.inner.token_to_id("<|im_start|>").expect("<|im_start|> in vocab");
        assert_eq!(tok.encode("<|im_start|>", true).expect("encode"), [im_start]);
        let plain = tok.encode("<|im_start|>", false).expect("encode");
        assert!(plain.len() > 1 && !plain.contains(&im_start), "{name}: {plain:?}");
        assert_eq!(tok.decode(&plain).expect("decode"), "<|im_start|>");
        // Control tokens do not render as text, as in llama.cpp without `special`.
        assert_eq!(tok.decode(&[im_start]).expect("decode"), "");
        assert_eq!(tok.token_bytes(im_start, true).expect("bytes"), b"<|im_start|>");
    }
}

#[test]
fn stream_decoder_rebuilds_every_line() {
    let Some(path) = model_path(QWEN) else { return };
    let tok = GgufTokenizer::from_gguf(&read_gguf(&path)).expect("tokenizer");
    for line in corpus() {
        let mut stream = tok.stream_decoder();
        let mut text = String::new();
        for id in tok.encode(&line, false).expect("encode") {
            text.extend(stream.push(id).expect("push"));
        }
        assert_eq!(stream.finish(), None, "{line:?}");
        assert_eq!(text, line);
    }
}

/// A GGUF-like vocabulary of the 256 byte symbols, a few merges and two special tokens.
fn tiny(model: &str, pre: &str) -> Content {
    let bytes: Vec<char> = {
        let table = byte_decoder();
        let mut chars: Vec<(u8, char)> = table.into_iter().map(|(c, b)| (b, c)).collect();
        chars.sort();
        chars.into_iter().map(|(_, c)| c).collect()
    };
    let mut tokens: Vec<String> = bytes.iter().map(char::to_string).collect();
    tokens.extend(["he", "hel", "hell", "hello", "Ġw", "<|im_start|>", "<tool>"].map(String::from));
    let merges = ["h e", "he l", "hel l", "hell o", "Ġ w", "x"].map(|m| Value::String(m.into()));
    let mut types = vec![Value::I32(1); tokens.len()];
    let n = types.len();
    (types[n - 2], types[n - 1]) = (Value::I32(3), Value::I32(4));
    let metadata = [
        ("tokenizer.ggml.model", Value::String(model.into())),
        ("tokenizer.ggml.pre", Value::String(pre.into())),
        ("tokenizer.ggml.tokens", Value::Array(tokens.into_iter().map(Value::String).collect())),
        ("tokenizer.ggml.merges", Value::Array(merges.to_vec())),
        ("tokenizer.ggml.token_type", Value::Array(types)),
        ("tokenizer.ggml.eos_token_id", Value::U32(n as u32 - 2)),
    ];
    let metadata = metadata.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Content {
        magic: VersionedMagic::GgufV3,
        metadata,
        tensor_infos: HashMap::new(),
        tensor_data_offset: 0,
    }
}

#[test]
fn tiny_vocabulary_round_trips_and_splits_specials() {
    let tok = GgufTokenizer::from_gguf(&tiny("gpt2", "qwen2")).expect("tokenizer");
    let n = tok.vocab_size() as u32;
    let (im_start, tool) = (n - 2, n - 1);
    assert_eq!(tok.eos, [im_start], "eos_token_id is kept even when it is no EOG text");
    let text = "hello world, 你好 🎧!\t<tool>x";
    let ids = tok.encode(text, false).expect("encode");
    assert_eq!(ids[0], 256 + 3, "merged `hello`");
    assert!(ids.contains(&tool) && !ids.contains(&im_start), "user-defined tokens always split");
    assert_eq!(tok.decode(&ids).expect("decode"), text);
    let with_special = tok.encode("<|im_start|>hello", true).expect("encode");
    assert_eq!(with_special, [im_start, 256 + 3]);
    assert!(matches!(tok.decode(&[n]), Err(TokenizerError::UnknownId { .. })));
}

#[test]
fn stream_decoder_waits_for_whole_characters() {
    let tok = GgufTokenizer::from_gguf(&tiny("gpt2", "smollm")).expect("tokenizer");
    let ids = tok.encode("a🎧b", false).expect("encode");
    assert_eq!(ids.len(), 6, "one token per byte in this vocabulary");
    let mut stream = tok.stream_decoder();
    let out: Vec<_> = ids.iter().map(|&id| stream.push(id).expect("push")).collect();
    let some = |s: &str| Some(s.to_string());
    assert_eq!(out, [some("a"), None, None, None, some("🎧"), some("b")]);
    // A character cut off at the end comes out as U+FFFD rather than being lost.
    let partial = tok.encode("🎧", false).expect("encode");
    let mut stream = tok.stream_decoder();
    assert_eq!(stream.push(partial[0]).expect("push"), None);
    assert_eq!(stream.finish().as_deref(), Some("\u{FFFD}"));
}

#[test]
fn unsupported_vocabularies_are_clear_errors() {
    let err = GgufTokenizer::from_gguf(&tiny("llama", "default")).err().expect("an error");
    assert!(matches!(err, TokenizerError::UnsupportedModel(ref m) if m == "llama"), "{err}");
    assert!(err.to_string().contains("SentencePiece"));
    let err = GgufTokenizer::from_gguf(&tiny("gpt2", "no-such-pre")).err().expect("an error");
    assert!(matches!(err, TokenizerError::UnsupportedPre(_)), "{err}");
    for pre in ["default", "llama-bpe", "gpt-2", "smollm", "qwen2"] {
        let tok = GgufTokenizer::from_gguf(&tiny("gpt2", pre)).expect("tokenizer");
        let text = "It's 2024: hello   world!\n";
        assert_eq!(tok.decode(&tok.encode(text, false).expect("encode")).expect("decode"), text);
    }
}

#[test]
fn byte_table_covers_every_byte_once() {
    let table = byte_decoder();
    assert_eq!(table.len(), 256);
    assert_eq!(table[&'Ġ'], b' ');
    assert_eq!(table[&'Ċ'], b'\n');
    assert_eq!(table[&'!'], b'!');
}
