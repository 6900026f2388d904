#!/usr/bin/env python3
"""Write the sentence-embedding reference fixture from sentence-transformers.

    python scripts/make-embed-fixture.py [MODEL_DIR] [OUT_DIR]

MODEL_DIR defaults to $PODBRIEF_MODELS/all-minilm-l6-v2 (PODBRIEF_MODELS defaults to
~/.cache/podbrief/models), OUT_DIR to the repository's tests/fixtures/embed. Run it with a
Python that has sentence-transformers, e.g. ~/.cache/podbrief/st-venv/bin/python.

Writes
  sentences.txt   one sentence per line (UTF-8)
  reference.f32   little-endian float32, one unit-length embedding per sentence, in order
  pairs.tsv       "i<TAB>j<TAB>paraphrase|unrelated", 0-based line numbers

The model directory as podbrief stores it has no modules.json or sentence_bert_config.json,
so sentence-transformers would build Transformer + mean pooling with max_seq_length 512 and
no normalisation. The published model truncates at 256 and normalises: set both here, the
way podbrief does (sentence_bert_config.json wins when present).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

# Paraphrase pairs: lines 2k and 2k+1 say the same thing; consecutive pairs are on unrelated
# topics, so (2k, 2k+3) is an unrelated pair.
PARAPHRASES = [
    ("The library opens at nine in the morning.", "Doors at the library open at 9 am."),
    ("She has worked at the small town library for thirty years.",
     "For three decades she has been employed by the village library."),
    ("The recipe needs two eggs and a cup of flour.",
     "You will need a cup of flour and a couple of eggs for this recipe."),
    ("Interest rates went up again this quarter.",
     "The central bank raised borrowing costs once more this quarter."),
    ("My cat sleeps on the windowsill all afternoon.",
     "All afternoon the cat naps on the window ledge."),
    ("The team won the championship after extra time.",
     "After overtime, the squad took the title."),
    ("Please turn off your phone during the concert.",
     "Switch your mobile off while the concert is on, please."),
    ("The train to Berlin was delayed by forty minutes.",
     "Our Berlin train arrived forty minutes late."),
    ("Drinking enough water keeps you healthy.", "Staying hydrated is good for your health."),
    ("He is learning to play the piano.", "He's taking piano lessons."),
    ("The podcast episode is about climate change.",
     "This episode of the show discusses global warming."),
    ("Solar panels were installed on the school roof.",
     "The school had solar panels put on its roof."),
]

OTHERS = [
    "",
    "Hello!",
    "Ok.",
    "Café, naïve, Straße, smörgåsbord and jalapeño are borrowed words.",
    "東京は日本の首都です。",
    "Москва — столица России.",
    "Emoji time 🎧🎙️ — the show starts now!",
    "    leading and trailing spaces    ",
    "ALL CAPS SENTENCE ABOUT NOTHING IN PARTICULAR",
    "Numbers like 3.14159, 2,718 and 1e-9 appear in technical talks.",
    "The quick brown fox jumps over the lazy dog.",
    "Quantum entanglement links the states of two particles.",
    "The mitochondria is the powerhouse of the cell.",
    "URLs such as https://example.org/path?q=1 and e-mail addresses like a@b.c are tokenised too.",
    "¿Dónde está la biblioteca?",
    "Il pleut des cordes ce matin à Paris.",
    "In nineteen ninety four she started working straight out of school.",
    "The index lived in wooden boxes full of little paper cards.",
    "Thank you for having me on the show today.",
    "Gradient descent minimises a loss function step by step.",
    "Tabs\tinside\ta sentence.",
    "A mixed-language line: the word Weltschmerz has no English equivalent.",
]

# Over 256 word pieces: exercises truncation (only the first 254 + [CLS]/[SEP] count).
LONG = " ".join(
    f"Sentence number {i} of a very long paragraph keeps going about libraries, books, "
    f"card catalogues and the people who look after them."
    for i in range(1, 21)
)


def main() -> None:
    models = Path(os.environ.get("PODBRIEF_MODELS", Path.home() / ".cache/podbrief/models"))
    model_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else models / "all-minilm-l6-v2"
    repo = Path(__file__).resolve().parent.parent
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else repo / "tests/fixtures/embed"
    out.mkdir(parents=True, exist_ok=True)

    sentences = [s for pair in PARAPHRASES for s in pair] + OTHERS + [LONG]
    assert all("\n" not in s for s in sentences)

    model = SentenceTransformer(str(model_dir), device="cpu")
    max_seq_length = 256
    st_config = model_dir / "sentence_bert_config.json"
    if st_config.exists():
        max_seq_length = json.loads(st_config.read_text()).get("max_seq_length", 256)
    model.max_seq_length = max_seq_length

    n_tokens = len(model.tokenizer(LONG)["input_ids"])
    assert n_tokens > max_seq_length, f"long sentence has only {n_tokens} tokens"

    emb = model.encode(sentences, batch_size=16, normalize_embeddings=True,
                       convert_to_numpy=True)
    emb = np.asarray(emb, dtype="<f4")

    (out / "sentences.txt").write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
    (out / "reference.f32").write_bytes(emb.tobytes())
    pairs = []
    for k in range(len(PARAPHRASES)):
        pairs.append((2 * k, 2 * k + 1, "paraphrase"))
        if k + 1 < len(PARAPHRASES):
            pairs.append((2 * k, 2 * k + 3, "unrelated"))
    (out / "pairs.tsv").write_text("".join(f"{i}\t{j}\t{kind}\n" for i, j, kind in pairs))

    sims = emb @ emb.T
    para = [sims[i, j] for i, j, kind in pairs if kind == "paraphrase"]
    unrel = [sims[i, j] for i, j, kind in pairs if kind == "unrelated"]
    print(f"{len(sentences)} sentences, dim {emb.shape[1]}, long sentence {n_tokens} tokens "
          f"(truncated to {max_seq_length}); paraphrase cos min {min(para):.3f}, "
          f"unrelated cos max {max(unrel):.3f}; wrote {out}")


if __name__ == "__main__":
    main()
