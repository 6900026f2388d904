"""llama.cpp side of scripts/bench-llm.sh: the same chat prompt and settings as
`podbrief llm --ignore-eos --stats`, timed by llama.cpp's own counters.

usage: llama_bench.py MODEL.gguf PROMPT.txt THREADS GEN_TOKENS
prints: prompt_tokens=… prompt_tps=… generated_tokens=… generation_tps=… load_s=…
"""
import sys
import time

import llama_cpp
import numpy as np

path, prompt_file, threads, gen = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
user = open(prompt_file, encoding="utf-8").read()
if user.endswith("\n"):
    user = user[:-1]

t0 = time.perf_counter()
llm = llama_cpp.Llama(
    model_path=path, n_ctx=4096, n_threads=threads, n_threads_batch=threads,
    n_batch=512, verbose=False,
)
load_s = time.perf_counter() - t0

# The model's own template (llama-cpp-python renders the GGUF's Jinja template), as podbrief does.
handler = llama_cpp.llama_chat_format.Jinja2ChatFormatter(
    template=llm.metadata["tokenizer.chat_template"],
    eos_token=llm._model.token_get_text(llm.token_eos()),
    bos_token=llm._model.token_get_text(llm.token_bos()),
)
prompt = handler(messages=[{"role": "user", "content": user}]).prompt
tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

# Prompt processing: one eval of the whole prompt (llama.cpp batches it by n_batch).
t0 = time.perf_counter()
llm.eval(tokens)
prompt_s = time.perf_counter() - t0

n_vocab = llm.n_vocab()

# Generation: greedy, one token per eval, end-of-turn ignored like podbrief's --ignore-eos.
t0 = time.perf_counter()
for _ in range(gen - 1):
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(llm.ctx), shape=(n_vocab,))
    tok = int(logits.argmax())
    llm.eval([tok])
gen_s = time.perf_counter() - t0

print(
    f"prompt_tokens={len(tokens)} prompt_tps={len(tokens) / prompt_s:.1f} "
    f"generated_tokens={gen} generation_tps={(gen - 1) / gen_s:.1f} load_s={load_s:.2f}"
)
