"""llama.cpp's greedy continuation of a chat prompt, to compare with
`podbrief llm --max-tokens N --ignore-eos --repeat-penalty 1.0 - < PROMPT.txt`.

usage: llama_greedy.py MODEL.gguf PROMPT.txt THREADS N [f32-kv]
prints the N greedy tokens' text. `f32-kv` keeps llama.cpp's key/value cache in f32, as podbrief
does (llama.cpp's default is f16), so that only the matrix kernels differ.
"""
import sys

import llama_cpp
import numpy as np

path, prompt_file, threads, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
kv = {"type_k": 0, "type_v": 0} if sys.argv[5:] == ["f32-kv"] else {}
user = open(prompt_file, encoding="utf-8").read()
if user.endswith("\n"):
    user = user[:-1]
llm = llama_cpp.Llama(
    model_path=path, n_ctx=4096, n_threads=threads, n_threads_batch=threads,
    n_batch=512, verbose=False, **kv,
)
# The model's own template, as podbrief renders it (see llama_bench.py).
handler = llama_cpp.llama_chat_format.Jinja2ChatFormatter(
    template=llm.metadata["tokenizer.chat_template"],
    eos_token=llm._model.token_get_text(llm.token_eos()),
    bos_token=llm._model.token_get_text(llm.token_bos()),
)
prompt = handler(messages=[{"role": "user", "content": user}]).prompt
llm.eval(llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
out = []
for _ in range(n):
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(llm.ctx), shape=(llm.n_vocab(),))
    out.append(int(logits.argmax()))
    llm.eval([out[-1]])
sys.stdout.write(llm.detokenize(out).decode("utf-8", "replace"))
