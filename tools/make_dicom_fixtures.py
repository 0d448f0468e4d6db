#!/usr/bin/python3
"""Golden fixtures for tests/SpineXR.Dicom.Tests (run with Debian's python3: pydicom 2.3.1 + GDCM + numpy).

    /usr/bin/python3 tools/make_dicom_fixtures.py

Writes tests/SpineXR.Dicom.Tests/Fixtures/:
  pydicom/*.dcm         a subset of pydicom's own test files (uncompressed, deflated, big endian, a few compressed)
  voi/*.dcm             small synthetic files, one per VOI path (window, multi-window, SIGMOID, LINEAR_EXACT, VOI LUT
                        sequence, MONOCHROME1, signed + rescale, big endian, bits above Bits Stored)
  reference/*.gray8.gz  the VinDr-SpineXR reference conversion of each file (raw uint8, rows x columns, gzip)
  manifest.csv          per file and frame: shape, sha256 of the stored values (int32 LE, masked to Bits Stored and
                        sign-extended, colour as round(0.299 R + 0.587 G + 0.114 B) or the Y of YBR), min, max, sum
The test suite never runs Python; it compares against these files.
"""
import gzip
import hashlib
import os
import shutil

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixel_data_handlers.util import apply_voi_lut
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ExplicitVRBigEndian, generate_uid

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "SpineXR.Dicom.Tests", "Fixtures")
SRC = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
PYDICOM_FILES = [
    "CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "MR_small_expb.dcm",
    "MR_small_padded.dcm", "ExplVR_BigEnd.dcm", "image_dfl.dcm", "rtdose.dcm", "rtdose_expb.dcm",
    "SC_rgb_small_odd.dcm", "SC_ybr_full_422_uncompressed.dcm",
    # compressed: decoded through the codecs (GDCM made the expected values)
    "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm", "rtdose_rle.dcm",
    "SC_rgb_rle_2frame.dcm", "JPEG2000.dcm",
    # bit-packed (Bits Allocated 1) segmentation frames, little and big endian (tools/make_bitpacked_fixtures.py)
    "liver_1frame.dcm", "liver_expb_1frame.dcm",
]


def read_xray(path):
    """The VinDr-SpineXR conversion: apply_voi_lut, invert MONOCHROME1, min-max to uint8."""
    ds = pydicom.dcmread(path)
    arr = masked(ds, ds.pixel_array)
    data = apply_voi_lut(arr, ds)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        data = np.amax(data) - data
    data = data - np.min(data)
    with np.errstate(invalid="ignore", divide="ignore"):
        data = data / np.max(data)
    data = np.nan_to_num(data * 255)
    return data.astype(np.uint8)


def masked(ds, arr):
    """Stored values masked to Bits Stored and sign-extended (the standard; pydicom 2.3 leaves the high bits)."""
    bits = int(ds.BitsStored)
    if bits >= ds.BitsAllocated:
        return arr
    a = arr.astype(np.int64) & ((1 << bits) - 1)
    if ds.PixelRepresentation == 1:
        a = np.where(a >= (1 << (bits - 1)), a - (1 << bits), a)
    return a.astype(arr.dtype)


def stored_frames(ds):
    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1))
    if frames == 1:
        arr = arr[np.newaxis]
    out = []
    for f in arr:
        f = masked(ds, f)
        if samples == 3:
            if ds.PhotometricInterpretation.startswith("YBR"):
                f = f[..., 0].astype(np.int64)
            else:
                f = np.round(0.299 * f[..., 0].astype(np.float64) + 0.587 * f[..., 1] + 0.114 * f[..., 2]).astype(np.int64)
        out.append(f.astype(np.int64))
    return out


def manifest_rows(rel, path):
    ds = pydicom.dcmread(path)
    rows = []
    for i, f in enumerate(stored_frames(ds)):
        digest = hashlib.sha256(f.astype("<i4").tobytes()).hexdigest()
        rows.append(f"{rel},{i},{f.shape[0]},{f.shape[1]},{digest},{f.min()},{f.max()},{int(f.sum())}")
    return rows


def base_dataset(rows, cols, bits_stored=12, signed=False, photometric="MONOCHROME2"):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[f"voi{rows}{cols}{bits_stored}{signed}{photometric}"])
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    return ds


def image(rows, cols, lo, hi, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    base = lo + (hi - lo) * (0.5 + 0.5 * np.sin(x / 5.0) * np.cos(y / 7.0))
    noise = rng.normal(0, (hi - lo) * 0.05, (rows, cols))
    return np.clip(np.round(base + noise), lo, hi)


def save(ds, arr, path, big_endian=False):
    dtype = np.int16 if ds.PixelRepresentation == 1 else np.uint16
    a = arr.astype(dtype)
    if big_endian:
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
        ds.PixelData = a.astype(a.dtype.newbyteorder(">")).tobytes()
        ds.is_little_endian, ds.is_implicit_VR = False, False
    else:
        ds.PixelData = a.tobytes()
        ds.is_little_endian, ds.is_implicit_VR = True, False
    ds["PixelData"].VR = "OW"
    ds.save_as(path, write_like_original=False)


def make_voi_files(out):
    R, C = 40, 32
    unsigned = image(R, C, 0, 4095, 1)
    signed = image(R, C, -1024, 2047, 2)
    cases = {}

    ds = base_dataset(R, C); ds.WindowCenter, ds.WindowWidth = 2000, 1500; cases["window"] = (ds, unsigned, False)
    ds = base_dataset(R, C); cases["no_window"] = (ds, unsigned, False)
    ds = base_dataset(R, C); ds.WindowCenter, ds.WindowWidth = [1500, 3000], [1000, 2000]; cases["multi_window"] = (ds, unsigned, False)
    ds = base_dataset(R, C); ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 2048, 1200, "SIGMOID"; cases["sigmoid"] = (ds, unsigned, False)
    ds = base_dataset(R, C); ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 1800.5, 0.5, "LINEAR_EXACT"; cases["linear_exact_narrow"] = (ds, unsigned, False)
    ds = base_dataset(R, C); ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 1800, 2600, "LINEAR_EXACT"; cases["linear_exact"] = (ds, unsigned, False)

    ds = base_dataset(R, C)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.LUTData = [int(round(65535 * (i / 4095) ** 0.5)) for i in range(4096)]
    item["LUTData"].VR = "US"
    ds.VOILUTSequence = Sequence([item])
    ds.WindowCenter, ds.WindowWidth = 100, 50  # ignored: the LUT is preferred
    cases["voi_lut_sequence"] = (ds, unsigned, False)

    ds = base_dataset(R, C)
    item = Dataset()
    # Narrower than the data, clipping at both ends. 16-bit entries: pydicom indexes 8-bit-entry LUTs through a
    # uint8 array (indices wrap modulo 256), a bug not reproduced here (see VoiFunction).
    item.LUTDescriptor = [200, 1000, 16]
    item.LUTData = [i * 300 for i in range(200)]
    item["LUTData"].VR = "US"
    ds.VOILUTSequence = Sequence([item])
    cases["voi_lut_offset"] = (ds, unsigned, False)

    ds = base_dataset(R, C, photometric="MONOCHROME1"); ds.WindowCenter, ds.WindowWidth = 2000, 3000; cases["monochrome1"] = (ds, unsigned, False)
    ds = base_dataset(R, C, photometric="MONOCHROME1"); cases["monochrome1_no_window"] = (ds, unsigned, False)
    ds = base_dataset(R, C, signed=True); ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024; cases["signed_rescale"] = (ds, signed, False)
    ds = base_dataset(R, C, signed=True); cases["signed_no_window"] = (ds, signed, False)
    ds = base_dataset(R, C); ds.WindowCenter, ds.WindowWidth = 2000, 1500; cases["big_endian"] = (ds, unsigned, True)
    ds = base_dataset(R, C); ds.WindowCenter, ds.WindowWidth = 2000, 1500
    garbage = unsigned.astype(np.uint16) | (np.arange(R * C).reshape(R, C) % 3 == 0) * 0xA000
    cases["high_bits_set"] = (ds, garbage, False)

    written = []
    for name, (ds, arr, be) in cases.items():
        uid = generate_uid(entropy_srcs=["spinexr-voi-fixture", name])  # one distinct, reproducible UID per file
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        path = os.path.join(out, name + ".dcm")
        save(ds, arr, path, be)
        written.append(name + ".dcm")
    return written


def main():
    for sub in ("pydicom", "voi", "reference"):
        os.makedirs(os.path.join(ROOT, sub), exist_ok=True)
    manifest = ["file,frame,rows,columns,sha256,min,max,sum"]
    for f in PYDICOM_FILES:
        shutil.copyfile(os.path.join(SRC, f), os.path.join(ROOT, "pydicom", f))
        manifest += manifest_rows("pydicom/" + f, os.path.join(ROOT, "pydicom", f))
    voi = make_voi_files(os.path.join(ROOT, "voi"))
    for f in voi:
        manifest += manifest_rows("voi/" + f, os.path.join(ROOT, "voi", f))
    # Reference 8-bit conversions: every synthetic file plus the grayscale single-frame pydicom files.
    refs = ["voi/" + f for f in voi] + ["pydicom/" + f for f in ("CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm",
                                                                   "MR_small_implicit.dcm", "MR_small_expb.dcm", "image_dfl.dcm")]
    for rel in refs:
        gray = read_xray(os.path.join(ROOT, rel))
        name = rel.replace("/", "_").replace(".dcm", ".gray8.gz")
        with gzip.GzipFile(os.path.join(ROOT, "reference", name), "wb", mtime=0) as fh:
            fh.write(gray.tobytes())
    with open(os.path.join(ROOT, "manifest.csv"), "w") as fh:
        fh.write("\n".join(manifest) + "\n")
    print(f"{len(manifest) - 1} manifest rows, {len(refs)} reference conversions")


if __name__ == "__main__":
    main()
