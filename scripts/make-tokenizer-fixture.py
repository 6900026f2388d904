#!/usr/bin/env python3
"""Write the reference token ids that src/llm/tokenizer.rs is tested against.

The reference is llama.cpp's own tokenizer (through llama-cpp-python), because
that is the implementation the GGUF metadata was written for. Usage:

    python scripts/make-tokenizer-fixture.py [MODEL.gguf ...]

With no arguments it uses the two chat models under $PODBRIEF_MODELS
(default ~/.cache/podbrief/models). Each model's fixture is named after the
folder that holds its model.gguf: tests/fixtures/llm/tokens-<folder>.json.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import llama_cpp
from llama_cpp import Llama, __version__ as LLAMA_CPP_PYTHON_VERSION

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "llm"
CORPUS = FIXTURES / "tokenizer-corpus.txt"
DEFAULT_MODELS = ["qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct"]
# Multi-line texts built from the corpus: lines BLOCK_LINES at a time, joined
# by a separator that cycles through these (the Rust test builds the same ones).
BLOCK_LINES = 10
BLOCK_SEPARATORS = ["\n", "\n\n", "\r\n"]
LLAMA_TOKEN_ATTR_NORMAL = 1 << 2


def corpus_lines():
    # split("\n"), not splitlines(): lines may hold U+0085 or U+2028 on purpose.
    text = CORPUS.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def blocks(lines):
    out = []
    for k, start in enumerate(range(0, len(lines), BLOCK_LINES)):
        sep = BLOCK_SEPARATORS[k % len(BLOCK_SEPARATORS)]
        out.append(sep.join(lines[start : start + BLOCK_LINES]) + "\n")
    return out


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fixture(model_path):
    llm = Llama(model_path=str(model_path), vocab_only=True, verbose=False)

    def tok(text, special):
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    lines = corpus_lines()
    plain = [tok(line, False) for line in lines]
    # Only the lines where parsing special tokens changes the result.
    special = {}
    for i, line in enumerate(lines):
        ids = tok(line, True)
        if ids != plain[i]:
            special[str(i)] = ids
    model = llm._model
    vocab = llama_cpp.llama_model_get_vocab(model.model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    # llama.cpp's token attributes (llama_token_attr bits) where they are not
    # plain NORMAL: it overrides some GGUF token types by their text.
    attrs = {}
    for i in range(n_vocab):
        attr = model.token_get_attr(i)
        if attr != LLAMA_TOKEN_ATTR_NORMAL:
            attrs[str(i)] = attr
    return {
        "model": model_path.name,
        "sha256": sha256(model_path),
        "size": model_path.stat().st_size,
        "reference": f"llama-cpp-python {LLAMA_CPP_PYTHON_VERSION}",
        "lines": plain,
        "blocks": [tok(b, False) for b in blocks(lines)],
        "special": special,
        "bos": model.token_bos(),
        "eos": model.token_eos(),
        "add_bos": model.add_bos_token(),
        "eog": [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)],
        "attrs": attrs,
    }


def main():
    if len(sys.argv) > 1:
        paths = [Path(p) for p in sys.argv[1:]]
    else:
        models = Path(os.environ.get("PODBRIEF_MODELS", "~/.cache/podbrief/models")).expanduser()
        paths = [models / name / "model.gguf" for name in DEFAULT_MODELS]
    for path in paths:
        path = path.resolve()
        data = fixture(path)
        out = FIXTURES / f"tokens-{path.parent.name}.json"
        out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"{out.relative_to(ROOT)}: {len(data['lines'])} lines, {len(data['blocks'])} blocks")


if __name__ == "__main__":
    main()
