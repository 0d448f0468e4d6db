#!/usr/bin/python3
"""Reference for the codec benchmarks (bench/SpineXR.Bench/Codecs/): decodes a compressed DICOM file with pydicom 2.3
+ GDCM (Debian packages; RLE goes to pydicom's own numpy decoder, as pydicom 2.3 does) REPEAT times and prints the
median decode time. With RAW (little-endian uint16) it also checks that the stored values equal it: for files written
by SpineXR's JPEG 2000 encoder, the check that they decode in pydicom + GDCM. RAW "-" skips the check.

Usage: /usr/bin/python3 tools/codec_reference_bench.py FILE.dcm RAW.u16|- [REPEAT]
Prints: gdcm_decode_ms=... gdcm_read_ms=... equal=True|False|None
"""
import statistics
import sys
import time

import numpy as np
import pydicom
from pydicom.pixel_data_handlers import gdcm_handler, numpy_handler, rle_handler

pydicom.config.pixel_data_handlers = [numpy_handler, gdcm_handler, rle_handler]


def main():
    path, raw = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    expected = None if raw == "-" else np.fromfile(raw, dtype="<u2")
    decode, read = [], []
    arr = None
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        ds = pydicom.dcmread(path)
        t1 = time.perf_counter()
        arr = ds.pixel_array  # GDCM decode + numpy array (not cached: a fresh dataset each time)
        t2 = time.perf_counter()
        if i > 0:  # the first run warms up imports and caches
            read.append(t1 - t0)
            decode.append(t2 - t1)
    bits = int(ds.BitsStored)
    equal = None if expected is None else (
        arr.size == expected.size and np.array_equal(arr.ravel().astype(np.uint32) & ((1 << bits) - 1), expected))
    print(f"gdcm_decode_ms={1000 * statistics.median(decode):.1f} gdcm_read_ms={1000 * statistics.median(read):.1f} equal={equal}")


if __name__ == "__main__":
    main()
