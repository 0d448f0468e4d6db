#!/usr/bin/python3
"""Golden fixtures for bit-packed pixel data (Bits Allocated 1), run with Debian's python3 (pydicom 2.3.1 + numpy).

    /usr/bin/python3 tools/make_bitpacked_fixtures.py

Copies pydicom's own 1-bit test files (liver_1frame.dcm: a Segmentation frame in explicit VR little endian;
liver_expb_1frame.dcm: the same in explicit VR big endian) into tests/SpineXR.Dicom.Tests/Fixtures/pydicom/ and
adds their rows to manifest.csv, computed as tools/make_dicom_fixtures.py computes every other row (stored values
as pydicom's pixel_array unpacks them: one 0/1 value per pixel), replacing rows of the same files. make_dicom_fixtures.py
lists the files too, so a full regeneration keeps them.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import make_dicom_fixtures as fx  # noqa: E402

FILES = ["liver_1frame.dcm", "liver_expb_1frame.dcm"]


def main():
    path = os.path.join(fx.ROOT, "manifest.csv")
    with open(path) as fh:
        lines = fh.read().splitlines()
    keep = [l for l in lines if not any(l.startswith("pydicom/" + f + ",") for f in FILES)]
    for f in FILES:
        dst = os.path.join(fx.ROOT, "pydicom", f)
        shutil.copyfile(os.path.join(fx.SRC, f), dst)
        keep += fx.manifest_rows("pydicom/" + f, dst)
    with open(path, "w") as fh:
        fh.write("\n".join(keep) + "\n")
    print("manifest rows written for " + ", ".join(FILES))


if __name__ == "__main__":
    main()
