#!/usr/bin/env python3
"""Reference side of tests/integration/tokenizer.sh: Hugging Face `tokenizers` and `tiktoken`.

  check_tokenizer.py make DIR        writes DIR/doc1.txt, DIR/doc2.txt (a varied multilingual
                                     text with invalid UTF-8) and trains byte-level BPE
                                     tokenizers on it: DIR/{gpt2,llama3,smollm2,qwen2big}/tokenizer.json
                                     (qwen2big: NFC normalizer, Qwen2's regex, an id past 65535)
  check_tokenizer.py compare TOK DATA DOC...
                                     DATA/train_*.bin (prepared with --val-fraction 0) must hold
                                     [eot] + ids(DOC) for each DOC, ids from `tokenizers` for a
                                     tokenizer.json, from tiktoken's encode_ordinary for a
                                     .tiktoken file (GPT-2's pattern)
  check_tokenizer.py ids TOK TEXT    prints the reference ids of TEXT, comma-separated
"""
import glob
import json
import os
import sys

import numpy as np

GPT2_PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")

FRAGMENTS = [
    "Grüße aus München! Ça va? Ñandú, façade, naïve café.",
    "Привет, мир! Съешь же ещё этих мягких французских булок.",
    "Καλημέρα κόσμε. こんにちは世界。你好，世界！안녕하세요 세계",
    "مرحبا بالعالم. नमस्ते दुनिया। สวัสดีชาวโลก שָׁלוֹם עוֹלָם",
    "Emoji: 👍🏽 👨‍👩‍👧‍👦 🇩🇪🇯🇵 🤖✨ ❤️ ☕",
    "Numbers: 1234567890 3.14159 1,000,000 -42 0x1F ٣٤٥ ²³ ½ 2026-12-06",
    "I'm sure they'll say WE'RE fine, don't you think? It's Bob's.",
    "whitespace   runs\t\ttabs  \n\n\n   indented\r\nCRLF line   \n \u00a0nbsp\u3000ideographic\u0085nel\u2028ls",
    "code: if (x >= 10) { y += x * 2; } // done;;; ...!!! ???",
    "    def f(self):\n        return {'a': [1, 2, 3]}\n",
    "trailing spaces   \nNext line starts with a letter\nand another\n",
    # Decomposed and compatibility forms, which an NFC normalizer (Qwen2's) composes and the
    # others leave alone: e + combining acute, A + ring, the Angstrom sign, Hangul jamo, n + tilde.
    "cafe\u0301 A\u030a \u212b \u1100\u1161\u11a8 man\u0303ana \u00e9\u0301 \u0041\u0308\u0304",
]
SPECIALS = {"gpt2": "<|endoftext|>", "llama3": "<|end_of_text|>", "smollm2": "<|endoftext|>", "qwen2big": "<|endoftext|>"}
INVALID = [b"\xff", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xf0\x9f\x98"]


def make_docs(d):
    # ~300 KB: more than one 256 KiB chunk of Tokenizer::encode_parallel, so its cuts are tested.
    parts = []
    for i in range(3600):
        parts.append(FRAGMENTS[i % len(FRAGMENTS)].encode())
        parts.append(f" #{i * 7919 % 100003}\n".encode())
        if i % 97 == 0:
            parts.append(INVALID[i // 97 % len(INVALID)])
        if i % 131 == 0:
            parts.append(b"<|endoftext|> special in the text<|big|>")
    doc1 = b"".join(parts)
    doc2 = "A second, short document.\nIt ends without a newline   ".encode()
    open(os.path.join(d, "doc1.txt"), "wb").write(doc1)
    open(os.path.join(d, "doc2.txt"), "wb").write(doc2)
    return doc1.decode("utf-8", errors="replace")


def train(d, name, text):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    byte_level = pre_tokenizers.ByteLevel
    if name == "gpt2":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = byte_level(add_prefix_space=False)
    elif name == "llama3":
        tok = Tokenizer(models.BPE(ignore_merges=True))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_PAT), behavior="isolated", invert=False),
            byte_level(add_prefix_space=False, use_regex=False)])
    elif name == "smollm2":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True), byte_level(add_prefix_space=True, use_regex=True)])
    else:  # Qwen2's NFC normalizer and regex, and an added token past 65536: uint32 shards
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_PAT), behavior="isolated", invert=False),
            byte_level(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=[SPECIALS[name]], show_progress=False,
                                  initial_alphabet=byte_level.alphabet())
    tok.train_from_iterator([text], trainer=trainer)
    os.makedirs(os.path.join(d, name), exist_ok=True)
    path = os.path.join(d, name, "tokenizer.json")
    tok.save(path)
    if name == "qwen2big":  # one more merge, whose token has id 70000, for a pair the text has
        j = json.load(open(path))
        vocab, inverse = j["model"]["vocab"], {v: k for k, v in j["model"]["vocab"].items()}
        enc = tok.encode(text[:2000], add_special_tokens=False)
        for i in range(len(enc.ids) - 1):
            a, b = inverse[enc.ids[i]], inverse[enc.ids[i + 1]]
            if enc.word_ids[i] == enc.word_ids[i + 1] and a + b not in vocab:
                break
        vocab[a + b] = 70000
        j["model"]["merges"].append([a, b])
        json.dump(j, open(path, "w"), ensure_ascii=False)


def reference_ids(tok_path, text):
    if tok_path.endswith(".tiktoken"):
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe
        ranks = load_tiktoken_bpe(tok_path)
        enc = tiktoken.Encoding("gpt2-local", pat_str=GPT2_PAT, mergeable_ranks=ranks,
                                special_tokens={"<|endoftext|>": len(ranks)})
        return enc.encode_ordinary(text), len(ranks)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tok_path)
    eot = next(t.content for t in tok.get_added_tokens_decoder().values() if t.content in SPECIALS.values())
    return tok.encode(text, add_special_tokens=False).ids, tok.token_to_id(eot)


def read_shards(data):
    out = []
    for path in sorted(glob.glob(os.path.join(data, "train_*.bin"))):
        header = np.fromfile(path, dtype=np.int32, count=256)
        assert header[0] == 20240520, path
        dtype = {1: np.uint16, 2: np.uint32}[int(header[1])]
        tokens = np.fromfile(path, dtype=dtype, offset=1024)
        assert len(tokens) == header[2], path
        out.append((int(header[1]), tokens))
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        d = sys.argv[2]
        text = make_docs(d)
        for name in SPECIALS:
            train(d, name, text)
    elif cmd == "compare":
        tok_path, data, docs = sys.argv[2], sys.argv[3], sys.argv[4:]
        want = []
        for doc in docs:
            ids, eot = reference_ids(tok_path, open(doc, "rb").read().decode("utf-8", errors="replace"))
            want += [eot] + ids
        shards = read_shards(data)
        got = np.concatenate([t for _, t in shards]).astype(np.int64)
        versions = sorted({v for v, _ in shards})
        if len(got) != len(want) or not np.array_equal(got, np.array(want, dtype=np.int64)):
            n = min(len(got), len(want))
            first = next((i for i in range(n) if got[i] != want[i]), n)
            sys.exit(f"FAIL: {tok_path}: ids differ from the reference at position {first} of {len(want)} "
                     f"(cairn {got[first:first + 8].tolist()} vs {want[first:first + 8]}); cairn has {len(got)}")
        print(f"ok: {os.path.basename(os.path.dirname(tok_path))}/{os.path.basename(tok_path)}: {len(want)} ids "
              f"equal the reference, shard version {versions}")
    elif cmd == "ids":
        ids, _ = reference_ids(sys.argv[2], sys.argv[3])
        print(",".join(map(str, ids)))


if __name__ == "__main__":
    main()
