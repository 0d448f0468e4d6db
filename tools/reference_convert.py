#!/usr/bin/python3
"""The VinDr-SpineXR reference conversion (pydicom + GDCM + numpy + OpenCV), timed: the baseline of the DICOM benchmark.

    /usr/bin/python3 tools/reference_convert.py OUT_DIR FILE...

Per file: pydicom.dcmread, apply_voi_lut(pixel_array), invert MONOCHROME1, min-max to uint8, cv2.imwrite PNG.
Prints one line: `files=N seconds=S files_per_s=R files_per_cpu_s=C peak_rss_mb=M` (C: per second of CPU time,
the fair measure on a shared machine).
"""
import os
import resource
import sys
import time

import cv2
import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_voi_lut

try:  # GDCM decodes JPEG 2000 for pydicom (Debian python3-gdcm)
    from pydicom.pixel_data_handlers import gdcm_handler  # noqa: F401
    pydicom.config.pixel_data_handlers = [pydicom.pixel_data_handlers.numpy_handler, gdcm_handler]
except ImportError:
    pass


def read_xray(path, voi_lut=True, fix_monochrome=True):
    dicom = pydicom.dcmread(path)
    data = apply_voi_lut(dicom.pixel_array, dicom) if voi_lut else dicom.pixel_array
    if fix_monochrome and dicom.PhotometricInterpretation == "MONOCHROME1":
        data = np.amax(data) - data
    data = data - np.min(data)
    data = data / np.max(data)
    return (data * 255).astype(np.uint8)


def main():
    out, files = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    for f in files:
        img = read_xray(f)
        cv2.imwrite(os.path.join(out, os.path.splitext(os.path.basename(f))[0] + ".png"), img)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files={len(files)} seconds={dt:.3f} files_per_s={len(files) / dt:.3f} "
          f"files_per_cpu_s={len(files) / cpu:.3f} peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
