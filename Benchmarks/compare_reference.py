#!/usr/bin/env python3
"""Side-by-side figures for issue 4's speed targets (run beside `csar bench`).

  pdq IMAGE     : reference PDQ (PyPI `pdqhash`, wrapping Meta's C++) on Pillow-decoded pixels;
                  reports Pillow decode, numpy luma, and hash medians.
  match N       : faiss-cpu IndexBinaryFlat and IndexBinaryMultiHash on N random 256-bit
                  hashes, median query time at Hamming distance <= 31.

Usage: python3 Benchmarks/compare_reference.py pdq IMAGE [ITERATIONS]
       python3 Benchmarks/compare_reference.py match N [QUERIES]
Needs: pip install pdqhash pillow numpy faiss-cpu
"""
import statistics
import sys
import time


def bench_pdq(path, iterations):
    import numpy as np
    import pdqhash
    from PIL import Image

    decode, luma, total = [], [], []
    for _ in range(iterations):
        t = time.perf_counter()
        with Image.open(path) as im:
            pixels = np.asarray(im.convert("RGB"))
        decode.append(time.perf_counter() - t)
        t = time.perf_counter()
        _ = (pixels[:, :, 0] * 0.299 + pixels[:, :, 1] * 0.587
             + pixels[:, :, 2] * 0.114).astype("float32")
        luma.append(time.perf_counter() - t)
        t = time.perf_counter()
        pdqhash.compute(pixels)
        total.append(time.perf_counter() - t)
    med = lambda xs: statistics.median(xs) * 1000
    print(f"pillow decode\t{med(decode):.3f} ms")
    print(f"pdqhash.compute\t{med(total):.3f} ms (includes numpy luma {med(luma):.3f} ms;"
          f" C++ part ~{med(total) - med(luma):.3f} ms)")


def bench_match(n, queries):
    import faiss
    import numpy as np

    rng = np.random.default_rng(12345)
    data = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    q = rng.integers(0, 256, size=(queries, 32), dtype=np.uint8)
    # Plant near-duplicates (flip 0..40 bits) of the first queries.
    for i in range(min(queries, n // 10)):
        v = np.unpackbits(q[i])
        flips = rng.integers(0, 256, size=i % 41)
        v[flips] ^= 1
        data[rng.integers(0, n)] = np.packbits(v)
    faiss.omp_set_num_threads(1)
    for name, index in [("IndexBinaryFlat", faiss.IndexBinaryFlat(256)),
                        ("IndexBinaryMultiHash(16x16)", faiss.IndexBinaryMultiHash(256, 16, 16))]:
        t = time.perf_counter()
        index.add(data)
        build = time.perf_counter() - t
        if hasattr(index, "nflip"):
            index.nflip = 1
        times, found = [], 0
        count = queries if name != "IndexBinaryFlat" else min(queries, 50)
        for i in range(count):
            t = time.perf_counter()
            lims, dist, ids = index.range_search(q[i:i + 1], 32)  # strict: d < 32
            times.append(time.perf_counter() - t)
            found += int(lims[1])
        med = statistics.median(times) * 1000
        print(f"{name}\tbuild {build:.2f} s\tmedian {med:.3f} ms/query over {count}"
              f" ({found} matches)")
        del index


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "pdq":
        bench_pdq(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 30)
    elif len(sys.argv) >= 3 and sys.argv[1] == "match":
        bench_match(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1000)
    else:
        print(__doc__)
        sys.exit(2)
