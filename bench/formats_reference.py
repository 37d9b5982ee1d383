#!/usr/bin/env python3
"""Reference figures for `csar bench images`: Pillow decodes each file to RGB and pdqhash
(Facebook's PDQ, C++) hashes it, as a Python upload pipeline would. Needs
`pip install pdqhash pillow numpy`.

Prints one tab-separated line per file:  path<TAB>median ms<TAB>WxH
and `path<TAB>unreadable<TAB>why` for a format Pillow does not read (e.g. HEIC).
"""

import argparse
import sys
import time


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    try:
        import numpy as np
        import pdqhash
        from PIL import Image
    except ImportError as error:
        print(f"missing\t{error.name}", flush=True)
        return 2
    for path in args.files:
        times = []
        try:
            for _ in range(args.iterations):
                t = time.perf_counter()
                with Image.open(path) as image:
                    pixels = np.asarray(image.convert("RGB"))
                pdqhash.compute(pixels)
                times.append(time.perf_counter() - t)
        except Exception as error:  # Pillow says which formats it cannot identify
            print(f"{path}\tunreadable\t{type(error).__name__}", flush=True)
            continue
        height, width = pixels.shape[:2]
        print(f"{path}\t{median(times) * 1000:.3f}\t{width}x{height}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
