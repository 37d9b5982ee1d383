#!/usr/bin/env python3
"""Hash images with the reference PDQ (PyPI `pdqhash`, which wraps Meta's C++) on pixels
decoded by Pillow, and print `path<TAB>pdq<TAB>quality` lines like `csar hash`.

Usage: python3 Benchmarks/pdq_reference.py FILE...   (pip install pdqhash pillow numpy)
"""
import sys

import numpy as np
import pdqhash
from PIL import Image


def reference_hex(bits):
    """pdqhash returns bit 255 first; the reference text is that 256-bit number in hex."""
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return f"{value:064x}"


def main(paths):
    for path in paths:
        with Image.open(path) as im:
            pixels = np.asarray(im.convert("RGB"))
        bits, quality = pdqhash.compute(pixels)
        print(f"{path}\t{pixels.shape[1]}x{pixels.shape[0]}\t{reference_hex(bits)}\t{quality}")


if __name__ == "__main__":
    main(sys.argv[1:])
