#!/usr/bin/env python3
"""Deterministic benchmark data for velin, restic and borg (see bench/README.md).

  dataset.py generate DIR [--small|--medium]   the dataset: ~2 GiB (~200 MB with --small,
                                                ~0.55 GiB with --medium)
  dataset.py mutate DIR [--seed N]    a ~1 % change: edits, appends, new and deleted files

The same arguments always give the same bytes (Python's Mersenne Twister with fixed seeds;
file times are set to a fixed instant too), so runs on different days compare.

Layout of DIR (full size; --small divides the counts and sizes by about ten, --medium by four):
  small/dNNN/fNNNNN.txt  20,000 text files of 1-64 KiB (log-uniform: most are small)
  mid/mNNN.bin           200 files of 1-20 MiB, 64 KiB blocks mixed random / text
  large/big-a.bin        256 MiB, mostly random with text runs (an image-like file)
  large/big-b.bin        128 MiB, half text
  dup/                   exact copies of 10 mid files and of 5 small/ directories
  shifted/               big-b with 4099 bytes inserted at its start and 1 MiB in its middle,
                         and 5 mid files with one byte prepended (content-defined chunking
                         should store little of these)
"""
import argparse
import math
import os
import random
import shutil
import sys

MIB = 1 << 20
KIB = 1 << 10
BLOCK = 64 * KIB
FIXED_TIME = 1764000000  # 2025-11-24, so that mtimes are part of the determinism


def text_lines(rng, count):
    """A pool of log- and prose-like lines made of a fixed pseudo-word vocabulary."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "den", "bar", "qua", "ex",
                 "zen", "pol", "ir", "um", "sta", "gre", "fo", "lin"]
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
             for _ in range(3000)]
    levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
    lines = []
    for i in range(count):
        if rng.random() < 0.5:
            lines.append("2025-11-%02d %02d:%02d:%02d.%03d %s [%s] %s id=%d took=%dms\n" % (
                rng.randint(1, 30), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                rng.randint(0, 999), rng.choice(levels), rng.choice(words),
                " ".join(rng.choices(words, k=rng.randint(3, 12))), rng.randint(1, 10**7),
                rng.randint(0, 5000)))
        else:
            lines.append(" ".join(rng.choices(words, k=rng.randint(5, 18))).capitalize() + ".\n")
    return [l.encode() for l in lines]


def text_bytes(rng, pool, size):
    out = bytearray()
    while len(out) < size:
        out += b"".join(rng.choices(pool, k=64))
    return bytes(out[:size])


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def mixed_bytes(rng, pool, size, random_share):
    """64 KiB blocks, each random (incompressible) or text, in the given share."""
    out = bytearray()
    while len(out) < size:
        n = min(BLOCK, size - len(out))
        out += rng.randbytes(n) if rng.random() < random_share else text_bytes(rng, pool, n)
    return bytes(out)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (FIXED_TIME, FIXED_TIME))


def write_streamed(path, rng, pool, size, random_share):
    """Large files in 8 MiB pieces so memory stays small."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(8 * MIB, left)
            f.write(mixed_bytes(rng, pool, n, random_share))
            left -= n
    os.utime(path, (FIXED_TIME, FIXED_TIME))


def generate(root, scale):
    rng = random.Random(20261125)
    pool = text_lines(rng, 20000)
    n_small, n_mid = 20000 // scale, 200 // scale
    for i in range(n_small):
        write(os.path.join(root, "small", "d%03d" % (i // 100), "f%05d.txt" % i),
              text_bytes(rng, pool, log_uniform(rng, KIB, 64 * KIB)))
    for i in range(n_mid):
        write(os.path.join(root, "mid", "m%03d.bin" % i),
              mixed_bytes(rng, pool, log_uniform(rng, MIB, 20 * MIB), rng.random()))
    big_a, big_b = {1: (256 * MIB, 128 * MIB), 4: (64 * MIB, 32 * MIB)}.get(scale, (24 * MIB, 16 * MIB))
    write_streamed(os.path.join(root, "large", "big-a.bin"), rng, pool, big_a, 0.8)
    write_streamed(os.path.join(root, "large", "big-b.bin"), rng, pool, big_b, 0.5)
    make_copies(root, rng, pool, n_mid)


def make_copies(root, rng, pool, n_mid):
    for i in range(0, n_mid, max(1, n_mid // 10)):
        copy(os.path.join(root, "mid", "m%03d.bin" % i), os.path.join(root, "dup", "m%03d.bin" % i))
    for d in range(5):
        src = os.path.join(root, "small", "d%03d" % d)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(root, "dup", "small-d%03d" % d), dirs_exist_ok=True)
    src = os.path.join(root, "large", "big-b.bin")
    dst = os.path.join(root, "shifted", "big-b-shifted.bin")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    size = os.path.getsize(src)
    with open(src, "rb") as f, open(dst, "wb") as out:
        out.write(rng.randbytes(4099))
        out.write(f.read(size // 2))
        out.write(text_bytes(rng, pool, MIB))
        while True:
            piece = f.read(8 * MIB)
            if not piece:
                break
            out.write(piece)
    os.utime(dst, (FIXED_TIME, FIXED_TIME))
    for i in range(1, n_mid, max(1, n_mid // 5)):
        with open(os.path.join(root, "mid", "m%03d.bin" % i), "rb") as f:
            write(os.path.join(root, "shifted", "m%03d-plus1.bin" % i), b"\n" + f.read())
    for dirpath, _, _ in os.walk(root):
        os.utime(dirpath, (FIXED_TIME, FIXED_TIME))


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    os.utime(dst, (FIXED_TIME, FIXED_TIME))


def files_under(root, sub):
    out = []
    for dirpath, _, names in os.walk(os.path.join(root, sub)):
        out += [os.path.join(dirpath, n) for n in names]
    return sorted(out)


def overwrite(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def mutate(root, seed):
    """Changes about 1 % of the dataset's bytes the ways applications do."""
    rng = random.Random(seed)
    pool = text_lines(rng, 2000)
    small, mid = files_under(root, "small"), files_under(root, "mid")
    total = sum(os.path.getsize(p) for p in files_under(root, ""))
    changed = 0
    for path in rng.sample(small, max(1, len(small) // 100)):   # 1 % of the text files
        if rng.random() < 0.5:
            data = text_bytes(rng, pool, rng.randint(100, 4 * KIB))
            with open(path, "ab") as f:
                f.write(data)
        else:
            size = os.path.getsize(path)
            data = text_bytes(rng, pool, min(size, KIB))
            overwrite(path, rng.randint(0, size - len(data)), data)
        changed += len(data)
    for path in rng.sample(small, max(1, len(small) // 400)):   # some are deleted
        if os.path.exists(path):
            changed += os.path.getsize(path)
            os.remove(path)
    for i in range(max(1, len(small) // 200)):                  # and some are new
        data = text_bytes(rng, pool, log_uniform(rng, KIB, 64 * KIB))
        write(os.path.join(root, "small", "new", "n%05d-%d.txt" % (i, seed)), data)
        changed += len(data)
    for path in rng.sample(mid, max(1, len(mid) // 50)):        # 2 % of the mid files edited
        size = os.path.getsize(path)
        for _ in range(3):
            overwrite(path, rng.randint(0, size - BLOCK), rng.randbytes(BLOCK))
            changed += BLOCK
    big = os.path.join(root, "large", "big-a.bin")               # a region of the big file
    overwrite(big, rng.randint(0, os.path.getsize(big) - MIB), rng.randbytes(MIB))
    changed += MIB
    budget = total // 100 - changed                              # fill up to 1 % with a new file
    if budget > 0:
        write(os.path.join(root, "mid", "new-%d.bin" % seed), mixed_bytes(rng, pool, budget, 0.5))
        changed += budget
    print("changed %.1f MiB of %.1f MiB (%.2f %%)" % (changed / MIB, total / MIB,
                                                    100.0 * changed / total))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("dir")
    g.add_argument("--small", action="store_true")
    g.add_argument("--medium", action="store_true")
    m = sub.add_parser("mutate")
    m.add_argument("dir")
    m.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.cmd == "generate":
        if os.path.exists(args.dir) and os.listdir(args.dir):
            sys.exit("dataset.py: %s exists and is not empty" % args.dir)
        generate(args.dir, 10 if args.small else 4 if args.medium else 1)
    else:
        if not os.path.isdir(os.path.join(args.dir, "small")):
            sys.exit("dataset.py: %s is not a dataset made by make_dataset.sh" % args.dir)
        mutate(args.dir, args.seed)


if __name__ == "__main__":
    main()
