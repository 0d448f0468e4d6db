#!/usr/bin/python3
"""Checks a synthetic dataset written by `spinexr data synth` against pydicom + GDCM (run by hand, never by tests).

For every DICOM file, pydicom (GDCM pixel handler, which decodes the JPEG 2000 files) must give the same stored
values as SpineXR's reader. SpineXR's values come from RAW_DIR/<image_id>.raw (uint16 little-endian, rows x columns),
dumped with SpineXR.Dicom (`PixelDecoder.DecodeGray(DicomFile.Open(f)).Values` written as ushort). Without RAW_DIR,
pydicom is compared with a second decoder instead (`gdcmconv --raw`). It also checks the header (SOP Instance UID =
2.25.<int(image_id, 16)>, 12 bits stored in 16, a VOI window, no value above 4095) and that every CSV box lies
inside its image.

usage: /usr/bin/python3 tools/check_synth_pydicom.py DATASET [RAW_DIR]
Checked 2026-11-27 on `data synth --studies 20 --seed 5` (37 files, JPEG 2000 and uncompressed, MONOCHROME1
and 2): 0 failures in both modes.
"""
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.pixel_data_handlers import gdcm_handler

pydicom.config.pixel_data_handlers = [gdcm_handler, pydicom.pixel_data_handlers.numpy_handler]


def main(root, raw_dir=None):
    n = 0
    failures = 0
    sizes = {}
    for split in ("train", "test"):
        folder = os.path.join(root, f"{split}_images")
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            stem = name.rsplit(".", 1)[0]
            ds = pydicom.dcmread(path)
            px = ds.pixel_array.astype(np.uint16)
            sizes[stem] = (ds.Columns, ds.Rows)
            problems = []
            if ds.SOPInstanceUID != "2.25." + str(int(stem, 16)):
                problems.append("SOPInstanceUID does not encode the image id")
            if ds.BitsStored != 12 or ds.BitsAllocated != 16:
                problems.append(f"bits {ds.BitsStored}/{ds.BitsAllocated}")
            if px.shape != (ds.Rows, ds.Columns):
                problems.append(f"shape {px.shape}")
            if px.max() > 4095:
                problems.append("value above 12 bits")
            if "WindowCenter" not in ds:
                problems.append("no window")
            if raw_dir:
                ours = np.fromfile(os.path.join(raw_dir, stem + ".raw"), dtype="<u2").reshape(px.shape)
                if not np.array_equal(ours, px):
                    problems.append(f"pixels differ from SpineXR's in {(ours != px).sum()} places")
            else:
                # Independent second decoder: gdcmconv to raw explicit VR, read back with numpy.
                with tempfile.TemporaryDirectory() as t:
                    out = os.path.join(t, "raw.dcm")
                    subprocess.run(["gdcmconv", "--raw", path, out], check=True)
                    raw = pydicom.dcmread(out).pixel_array.astype(np.uint16)
                if not np.array_equal(raw, px):
                    problems.append("gdcmconv --raw and pydicom disagree")
            n += 1
            if problems:
                failures += 1
                print(f"FAIL {path}: {'; '.join(problems)}")
        with open(os.path.join(root, "annotations", f"{split}.csv")) as f:
            for row in csv.DictReader(f):
                if row["xmin"] == "":
                    continue
                w, h = sizes[row["image_id"]]
                x1, y1, x2, y2 = (float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
                if not (0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h):
                    failures += 1
                    print(f"FAIL box {row}")
    print(f"{n} files checked, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
