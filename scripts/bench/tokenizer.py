#!/usr/bin/env python3
"""Tokenizer throughput: `cairn data prepare --tokenizer` against Hugging Face `tokenizers`'
encode_batch and `tiktoken`'s encode_ordinary_batch, same text, same threads, in one run.

  ~/.cache/cairn/venv/bin/python scripts/bench/tokenizer.py build/bin/cairn [MB] [REPEATS]

Text: MB megabytes (default 20) of lines drawn with a fixed seed from data/corpus.txt and the
multilingual test text of tests/integration/check_tokenizer.py. Tokenizers: GPT-2's real ranks
(openai-whisper's assets/gpt2.tiktoken: cairn vs tiktoken) and a byte-level BPE of 8192 tokens
trained here with `tokenizers` (cairn vs tokenizers). The libraries get the text as documents
cut where cairn's encoder may cut it (so their ids, concatenated, are cairn's, which is
checked); cairn reads the file, encodes and writes shards (its whole `data prepare`, I/O
included). Runs alternate (cairn, library, cairn, ...) and medians are printed. Threads: 2
(OMP_NUM_THREADS for cairn, RAYON_NUM_THREADS for tokenizers, num_threads for tiktoken).
"""
import glob
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import check_tokenizer  # noqa: E402

THREADS = 2


def make_text(path, mb):
    with tempfile.TemporaryDirectory() as d:
        check_tokenizer.make_docs(d)
        multi = open(os.path.join(d, "doc1.txt"), "rb").read().decode("utf-8", errors="replace")
    lines = open(os.path.join(ROOT, "data", "corpus.txt"), encoding="utf-8").read().splitlines(keepends=True)
    lines += multi.splitlines(keepends=True)
    rng = random.Random(0)
    out, size = [], 0
    while size < mb << 20:
        line = rng.choice(lines)
        out.append(line)
        size += len(line.encode())
    text = "".join(out)
    open(path, "w", encoding="utf-8").write(text)
    return text


def documents(text, n):
    """Cuts text into about n documents at cairn's safe cuts ("X\\nL", X printable ASCII)."""
    docs, start, step = [], 0, max(1, len(text) // n)
    i = step
    while i < len(text):
        if text[i].isascii() and text[i].isalpha() and text[i - 1] == "\n" and "!" <= text[i - 2] <= "~":
            docs.append(text[start:i])
            start, i = i, i + step
        else:
            i += 1
    docs.append(text[start:])
    return docs


def cairn_run(cairn, text_path, tok_path, out):
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), CAIRN_PROGRESS="off")
    t = time.perf_counter()
    subprocess.run([cairn, "data", "prepare", text_path, "--tokenizer", tok_path, "--out", out, "--val-fraction", "0"],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    n = sum(int(np.fromfile(p, dtype=np.int32, count=3)[2]) for p in glob.glob(os.path.join(out, "train_*.bin")))
    return wall, n - 1  # less the leading end-of-text token


def main():
    cairn = os.path.abspath(sys.argv[1])
    mb = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    os.environ["RAYON_NUM_THREADS"] = str(THREADS)
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    work = tempfile.mkdtemp(prefix="cairn-bench-tok.")
    text_path = os.path.join(work, "text.txt")
    text = make_text(text_path, mb)
    nbytes = len(text.encode())
    docs = documents(text, 4096)

    ranks_path = os.path.join(os.path.dirname(importlib.util.find_spec("whisper").origin), "assets", "gpt2.tiktoken")
    ranks = load_tiktoken_bpe(ranks_path)
    enc = tiktoken.Encoding("gpt2-local", pat_str=check_tokenizer.GPT2_PAT, mergeable_ranks=ranks,
                            special_tokens={"<|endoftext|>": len(ranks)})
    os.symlink(ranks_path, os.path.join(work, "gpt2.tiktoken"))

    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    hf.train_from_iterator([text[:4 << 20]], trainer=trainers.BpeTrainer(
        vocab_size=8192, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    hf_path = os.path.join(work, "tokenizer.json")
    hf.save(hf_path)

    libs = {
        "tiktoken (GPT-2 ranks)": (os.path.join(work, "gpt2.tiktoken"),
                                   lambda: sum(map(len, enc.encode_ordinary_batch(docs, num_threads=THREADS)))),
        "tokenizers (BPE 8192)": (hf_path,
                                  lambda: sum(len(e.ids) for e in hf.encode_batch(docs, add_special_tokens=False))),
    }
    print(f"text: {nbytes / 1e6:.1f} MB, {len(docs)} documents for the libraries; {THREADS} threads each; "
          f"{repeats} repeats, alternating")
    for name, (tok_path, lib) in libs.items():
        ours, theirs = [], []
        for _ in range(repeats):
            wall, n_ours = cairn_run(cairn, text_path, tok_path, os.path.join(work, "out"))
            ours.append(wall)
            t = time.perf_counter()
            n_theirs = lib()
            theirs.append(time.perf_counter() - t)
            assert n_ours == n_theirs, f"{name}: cairn made {n_ours} tokens, the library {n_theirs}"
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{name:24s} cairn data prepare {nbytes / a / 1e6:6.2f} MB/s ({a:.2f} s) | library "
              f"{nbytes / b / 1e6:6.2f} MB/s ({b:.2f} s) | cairn/library {b / a:.2f}x | {n_ours} tokens")
    subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()
