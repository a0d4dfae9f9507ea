#!/usr/bin/env python3
"""scripts/scaling_on_paper.py — the tables of docs/scaling.md: checkpoint save/load time, stall,
storage and metadata of 7B and 70B models with AdamW (params + m + v, fp32) on 64-1024 GPUs,
computed from the per-rank bandwidths measured on this machine (docs/benchmarks.md) and the
cairn design (one shard per rank, ZeRO-1 flat ranges, the commit protocol of
docs/checkpoint-format.md). Pure arithmetic: no measurement happens here.

Usage: scripts/scaling_on_paper.py [--write-gbps 0.6] [--read-gbps 1.5] [--copy-gbps 3.9]
          [--agg-write-gbps 100] [--agg-read-gbps 200] [--net-gbps 25] [--sha-gbps 1.7]
"""
import argparse

MODELS = [  # name, parameters, tensors (LLaMA-style: 9 per layer + embedding, final norm, head)
    ("7B", 7.0e9, 32 * 9 + 3),
    ("70B", 70.0e9, 80 * 9 + 3),
]
WORLDS = [64, 128, 256, 512, 1024]
BUFFERS = 3                      # params, adam_m, adam_v
BYTES_PER_PARAM = 4 * BUFFERS    # fp32 each
HASH_CHUNK = 4096 * 4            # logical-hash chunk: 4096 floats (core/sharding.h kChunkFloats)
DIGEST = 32                      # SHA-256 per chunk, gathered at commit
CODEC_CHUNK = (1 << 18) * 4      # zstd piece: 2^18 floats = 1 MiB floats = 4 MiB (codec.h)
MANIFEST_BYTES_PER_PIECE = 200   # measured: ~255 B/piece in a tiny manifest, layout included
GPUS_PER_NODE = 8


def gb(x):
    return x / 1e9


def fmt_s(s):
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 0.1:
        return f"{s:.2f} s"
    return f"{s * 1000:.0f} ms"


def fmt_b(b):
    for unit, div in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if b >= div:
            return f"{b / div:.3g} {unit}"
    return f"{b:.0f} B"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-gbps", type=float, default=0.6, help="one rank's save write rate (GB/s)")
    ap.add_argument("--read-gbps", type=float, default=1.5, help="one rank's load rate, checksums verified (GB/s)")
    ap.add_argument("--copy-gbps", type=float, default=3.9, help="snapshot copy into staging (GB/s)")
    ap.add_argument("--agg-write-gbps", type=float, default=100.0, help="shared file system: aggregate write cap")
    ap.add_argument("--agg-read-gbps", type=float, default=200.0, help="shared file system: aggregate read cap")
    ap.add_argument("--net-gbps", type=float, default=25.0, help="per-GPU network bandwidth (GB/s)")
    ap.add_argument("--sha-gbps", type=float, default=1.7, help="SHA-256 on one core (GB/s)")
    a = ap.parse_args()

    print("### Save and load time\n")
    print(f"Per-rank rates: write {a.write_gbps} GB/s, load {a.read_gbps} GB/s (measured here, one rank, one "
          f"disk); shared file system capped at {a.agg_write_gbps:g} GB/s write, {a.agg_read_gbps:g} GB/s read "
          f"(assumed); node-local: {GPUS_PER_NODE} GPUs share one disk of the measured speed.\n")
    print("| model | state | GPUs | per rank | save: rate per rank | save: shared FS | save: node-local | "
          "load: rate per rank | load: shared FS | load: node-local |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, p, _ in MODELS:
        state = p * BYTES_PER_PARAM
        for w in WORLDS:
            s = state / w
            save_a = gb(s) / a.write_gbps
            save_c = max(save_a, gb(state) / a.agg_write_gbps)
            save_n = gb(s) * GPUS_PER_NODE / a.write_gbps
            load_a = gb(s) / a.read_gbps
            load_c = max(load_a, gb(state) / a.agg_read_gbps)
            load_n = gb(s) * GPUS_PER_NODE / a.read_gbps
            print(f"| {name} | {fmt_b(state)} | {w} | {fmt_b(s)} | {fmt_s(save_a)} | {fmt_s(save_c)} | "
                  f"{fmt_s(save_n)} | {fmt_s(load_a)} | {fmt_s(load_c)} | {fmt_s(load_n)} |")

    print("\n### Training-thread stall of an async save, and what the commit moves\n")
    print(f"Snapshot copy at {a.copy_gbps} GB/s (overlaps the next forward/backward: a stall only where it is "
          f"longer); digests allgathered at {a.net_gbps:g} GB/s per rank; rank 0 hashes them with SHA-256 at "
          f"{a.sha_gbps} GB/s. Sync save = the shared-FS save time above.\n")
    print("| model | GPUs | snapshot copy | staging memory per rank (per node) | digests every rank receives | "
          "allgather | rank-0 SHA-256 of digests | commit stall (allgather + hash) | sync save | stall / sync |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, p, _ in MODELS:
        state = p * BYTES_PER_PARAM
        digests = state / HASH_CHUNK * DIGEST
        for w in WORLDS:
            s = state / w
            copy = gb(s) / a.copy_gbps
            allg = gb(digests) / a.net_gbps
            sha = gb(digests) / a.sha_gbps
            stall = allg + sha
            sync = max(gb(s) / a.write_gbps, gb(state) / a.agg_write_gbps)
            print(f"| {name} | {w} | {fmt_s(copy)} | {fmt_b(s)} ({fmt_b(s * GPUS_PER_NODE)}) | {fmt_b(digests)} | "
                  f"{fmt_s(allg)} | {fmt_s(sha)} | {fmt_s(stall)} | {fmt_s(sync)} | {100 * stall / sync:.1f}% |")

    print("\n### Metadata and files\n")
    print("| model | GPUs | pieces (plain) | manifest (plain) | pieces (zstd) | manifest (zstd) | files per checkpoint "
          "| shard opens on resume (W' = W) | storage, keep_last = 3 (zstd at ratio 1.2) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, p, tensors in MODELS:
        state = p * BYTES_PER_PARAM
        for w in WORLDS:
            # A rank's range cuts the tensors it overlaps: about tensors + W segments per buffer.
            plain = BUFFERS * (tensors + w)
            zstd = int(state / CODEC_CHUNK) + BUFFERS * w
            print(f"| {name} | {w} | {plain:,} | {fmt_b(plain * MANIFEST_BYTES_PER_PIECE)} | {zstd:,} | "
                  f"{fmt_b(zstd * MANIFEST_BYTES_PER_PIECE)} | {w + 1:,} | {w * w:,} | "
                  f"{fmt_b(3 * state)} ({fmt_b(3 * state / 1.2)}) |")


if __name__ == "__main__":
    main()
