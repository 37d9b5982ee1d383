#!/usr/bin/env python3
"""Reference figures for `csar bench all`: pdqhash (Facebook's PDQ, C++) on the same decoded
pixels csar hashes, and faiss IndexBinaryFlat / IndexBinaryMultiHash range search at distance
31 over N random 256-bit hashes. Needs `pip install pdqhash faiss-cpu numpy`.

Prints one tab-separated line per figure:  name<TAB>median ms<TAB>detail
and, last, this process's peak resident memory (VmHWM).
"""

import argparse
import sys
import time


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def vmhwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def bench_pdq(np, pdqhash, path, width, height, iterations):
    pixels = np.fromfile(path, dtype=np.uint8).reshape((height, width, 3))
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        _, quality = pdqhash.compute(pixels)
        times.append(time.perf_counter() - t)
    print(f"pdqhash\t{median(times) * 1000:.3f}\t{width}x{height}, quality {quality}", flush=True)


def bench_faiss(np, faiss, count, queries, distance, multihash):
    rng = np.random.default_rng(12345)
    base = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    centres = rng.integers(0, 256, size=(queries, 32), dtype=np.uint8)
    # Plant near-duplicates of the first tenth of the queries, as `csar bench match` does.
    planted = min(count // 10, queries)
    for q in range(planted):
        near = centres[q].copy()
        for _ in range(q % 41):
            k = int(rng.integers(0, 256))
            near[k >> 3] ^= 1 << (k & 7)
        base[int(rng.integers(0, count))] = near
    indexes = [("flat", faiss.IndexBinaryFlat(256))]
    if multihash:
        # 16 tables of 16 bits: two hashes within 31 bits share one 16-bit piece up to one
        # bit flip (pigeonhole), so nflip=1 makes the range search exact.
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = 1
        indexes.append(("multihash", index))
    for name, index in indexes:
        t = time.perf_counter()
        index.add(base)
        build = time.perf_counter() - t
        times = []
        found = 0
        for q in range(queries):
            t = time.perf_counter()
            lims, _, _ = index.range_search(centres[q:q + 1], distance + 1)
            times.append(time.perf_counter() - t)
            found += int(lims[1])
        print(f"faiss {name} {count}\t{median(times) * 1000:.3f}\t"
              f"build {build:.2f} s, {found} matches", flush=True)
        del index


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pixels", help="raw RGB file (height x width x 3 bytes)")
    parser.add_argument("--width", type=int, default=0)
    parser.add_argument("--height", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--hashes", default="1000000,10000000",
                        help="comma-separated index sizes")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--distance", type=int, default=31)
    parser.add_argument("--multihash-max", type=int, default=1000000,
                        help="largest size also timed with IndexBinaryMultiHash (memory)")
    args = parser.parse_args()
    try:
        import numpy as np
        import pdqhash
        import faiss
    except ImportError as error:
        print(f"missing\t{error.name}", flush=True)
        return 2
    faiss.omp_set_num_threads(1)
    if args.pixels:
        bench_pdq(np, pdqhash, args.pixels, args.width, args.height, args.iterations)
    for count in [int(x) for x in args.hashes.split(",") if x]:
        bench_faiss(np, faiss, count, args.queries, args.distance,
                    count <= args.multihash_max)
    print(f"peak\t{vmhwm_kib()}\tKiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
