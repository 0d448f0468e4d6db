#!/usr/bin/python3
"""Makes the pixel-codec test fixtures in tests/SpineXR.Dicom.Tests/Fixtures/Codecs.

Small synthetic images (45x37: partial JPEG blocks on both axes; 8/12/16/32-bit, signed, 1 and 3 samples) are
written as uncompressed DICOM with pydicom, compressed with dcmtk (dcmcrle, dcmcjpeg, dcmcjpls), GDCM
(gdcmconv --j2k), OpenJPH (ojph_compress, HTJ2K) and this script's own lossless JPEG encoder (restart intervals,
which dcmtk cannot write), and decoded with pydicom + GDCM, the reference. The first frame's code stream is saved
as <case>.bin; cases.json gives its PixelFormat and the expected decode: the source image for lossless cases
(checked here to equal GDCM's decode), or GDCM's own decode for lossy ones. Compressed files of pydicom's test set
are added the same way; for those, large expected images keep every k-th row plus a SHA-256 of the whole.

Run (Debian's Python, which has pydicom 2.3 + GDCM):  /usr/bin/python3 tools/make_codec_fixtures.py
Needs: dcmtk, libgdcm-tools, openjph-tools (apt-get install dcmtk libgdcm-tools openjph-tools python3-pydicom python3-gdcm).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_pixel_data_frame
from pydicom.pixel_data_handlers import gdcm_handler, numpy_handler, rle_handler
from pydicom.pixel_data_handlers.util import convert_color_space
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

sys.path.insert(0, os.path.dirname(__file__))
import lossless_jpeg_encoder  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "SpineXR.Dicom.Tests", "Fixtures", "Codecs")
PYDICOM_FILES = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
ROWS, COLS = 37, 45
MAX_EXPECTED_BYTES = 6 * 1024

pydicom.config.pixel_data_handlers = [numpy_handler, gdcm_handler, rle_handler]  # pydicom 2.3 sends RLE to its own decoder, not GDCM

SOURCES = {
    # name: (samples, bits allocated, bits stored, pixel representation, photometric)
    "m2": (1, 8, 2, 0, "MONOCHROME2"),
    "m8": (1, 8, 8, 0, "MONOCHROME2"),
    "m12": (1, 16, 12, 0, "MONOCHROME2"),
    "m16": (1, 16, 16, 0, "MONOCHROME2"),
    "s12": (1, 16, 12, 1, "MONOCHROME2"),
    "s16": (1, 16, 16, 1, "MONOCHROME2"),
    "m32": (1, 32, 32, 0, "MONOCHROME2"),
    "rgb8": (3, 8, 8, 0, "RGB"),
    "rgb16": (3, 16, 16, 0, "RGB"),
}


def dtype_of(ba, pr):
    return np.dtype(("<i" if pr else "<u") + str(ba // 8))


def make_image(name):
    """A smooth radial gradient, a sharp-edged box and seeded noise spanning the full stored range."""
    spp, ba, bs, pr, _ = SOURCES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    y, x = np.mgrid[0:ROWS, 0:COLS]
    r = np.hypot(x - COLS * 0.4, y - ROWS * 0.6) / np.hypot(COLS, ROWS)
    lo, hi = (-(1 << (bs - 1)), (1 << (bs - 1)) - 1) if pr else (0, (1 << bs) - 1)
    span = float(hi) - float(lo)
    planes = []
    for c in range(spp):
        v = (1.0 - r) * 0.7 + 0.1 * c
        v[8:20, 10:22] += 0.2 * (c + 1)
        v += rng.normal(0, 0.02, v.shape)
        v = np.clip(v, 0, 1)
        plane = np.round(lo + v * span).astype(np.float64)
        plane[0, 0], plane[0, 1] = lo, hi  # the extremes, so every bit is exercised
        planes.append(np.clip(plane, lo, hi))
    arr = np.stack(planes, axis=-1) if spp == 3 else planes[0]
    return arr.astype(np.int64).astype(dtype_of(ba, pr))


def write_dicom(path, arr, name):
    spp, ba, bs, pr, pi = SOURCES[name]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "OT", "Codec^Fixture", "codec"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = ROWS, COLS, spp
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = ba, bs, bs - 1, pr
    ds.PhotometricInterpretation = pi
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.PixelData = arr.tobytes()
    ds.save_as(path, write_like_original=False)


def stored(arr, bs, pr):
    """Values masked to Bits Stored (sign-extended when signed), as int64: what a DICOM reader reports."""
    a = arr.astype(np.int64) & ((1 << bs) - 1)
    if pr:
        a = np.where(a >= (1 << (bs - 1)), a - (1 << bs), a)
    return a


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip() or r.stdout.strip()}")


def first_frame(ds):
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    return next(generate_pixel_data_frame(ds.PixelData, frames))


def gdcm_first_frame(ds):
    arr = ds.pixel_array
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    return arr[0] if frames > 1 else arr


cases = []


def save_case(name, ds, stream, expected, expected_pi, max_diff, origin, source=None):
    """Writes <name>.bin and the expected image (or a reference to the source) and records the case."""
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(stream)
    ba, pr = int(ds.BitsAllocated), int(ds.PixelRepresentation)
    case = {
        "name": name,
        "origin": origin,
        "transferSyntax": str(ds.file_meta.TransferSyntaxUID),
        "rows": int(ds.Rows), "columns": int(ds.Columns),
        "samplesPerPixel": int(ds.SamplesPerPixel),
        "bitsAllocated": ba, "bitsStored": int(ds.BitsStored), "pixelRepresentation": pr,
        "photometric": str(ds.PhotometricInterpretation),
        "planarConfiguration": int(getattr(ds, "PlanarConfiguration", 0) or 0),
        "stream": name + ".bin",
        "expectedPhotometric": expected_pi,
        "maxDifference": max_diff,
    }
    raw = np.ascontiguousarray(expected).astype(dtype_of(ba, pr)).tobytes()
    if source is not None:
        case["expected"] = f"sources/{source}.raw"
    else:
        row_bytes = len(raw) // int(ds.Rows)
        step = max(1, -(-len(raw) // MAX_EXPECTED_BYTES))
        kept = b"".join(raw[r * row_bytes:(r + 1) * row_bytes] for r in range(0, int(ds.Rows), step))
        with open(os.path.join(OUT, name + ".expected.raw"), "wb") as f:
            f.write(kept)
        case["expected"] = name + ".expected.raw"
        case["expectedRowStep"] = step
        # Of the stored values (masked to Bits Stored, sign-extended) as little-endian int64: bits above Bits
        # Stored are the reader's business, not the codec's.
        values = stored(np.ascontiguousarray(expected), int(ds.BitsStored), pr).astype("<i8")
        case["expectedSha256"] = hashlib.sha256(values.tobytes()).hexdigest()
    cases.append(case)


def add_compressed(name, path, source, lossy_tolerance=None, to_rgb=False):
    """A file compressed by a tool from source `source`: exact against the source unless lossy."""
    ds = pydicom.dcmread(path)
    stream = first_frame(ds)
    spp, ba, bs, pr, _ = SOURCES[source]
    decoded = gdcm_first_frame(ds)
    pi = str(ds.PhotometricInterpretation)
    origin = f"{ds.file_meta.TransferSyntaxUID.name}, made by {tool_of[name]}"
    if lossy_tolerance is None:
        src = images[source]
        if not np.array_equal(stored(decoded, bs, pr), stored(src, bs, pr)):
            raise RuntimeError(f"{name}: GDCM's decode differs from the source of a lossless stream")
        save_case(name, ds, stream, src, pi, 0, origin, source=source)
    else:
        if to_rgb and pi in ("YBR_FULL", "YBR_FULL_422"):
            # pydicom converts in floating point, libjpeg (and we) in 16-bit fixed point: allow rounding.
            decoded = convert_color_space(decoded, "YBR_FULL", "RGB")
            pi = "RGB"
            lossy_tolerance = max(lossy_tolerance, 2)
        save_case(name, ds, stream, decoded, pi, lossy_tolerance, origin)


tool_of = {}


def compress(name, source, *cmd):
    """Runs `cmd IN OUT` on the source file and returns the output path."""
    out = os.path.join(tmp, name + ".dcm")
    run(*cmd, os.path.join(tmp, source + ".dcm"), out)
    tool_of[name] = " ".join(os.path.basename(c) for c in cmd)
    return out


def write_pnm(path, arr, maxval):
    spp = 3 if arr.ndim == 3 else 1
    header = f"{'P6' if spp == 3 else 'P5'}\n{arr.shape[1]} {arr.shape[0]}\n{maxval}\n".encode()
    data = arr.astype(">u2" if maxval > 255 else "u1").tobytes()
    with open(path, "wb") as f:
        f.write(header + data)


def read_pnm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts, pos = [], 0
    while len(parts) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    pos += 1
    w, h, maxval = int(parts[1]), int(parts[2]), int(parts[3])
    spp = 3 if parts[0] == b"P6" else 1
    arr = np.frombuffer(data[pos:], dtype=">u2" if maxval > 255 else "u1", count=w * h * spp)
    return arr.reshape((h, w, spp) if spp == 3 else (h, w))


def htj2k_case(name, source, ts, *options, qstep=None):
    """HTJ2K by OpenJPH (GDCM 3.0 cannot decode it): lossless checked by OpenJPH's round trip, lossy keeps OpenJPH's decode."""
    spp, ba, bs, pr, pi = SOURCES[source]
    src = images[source]
    pnm = os.path.join(tmp, f"{name}.{'ppm' if spp == 3 else 'pgm'}")
    write_pnm(pnm, src, (1 << bs) - 1)
    j2c = os.path.join(tmp, name + ".j2c")
    args = ["ojph_compress", "-i", pnm, "-o", j2c, *options]
    args += ["-reversible", "true"] if qstep is None else ["-qstep", str(qstep)]
    run(*args)
    back = os.path.join(tmp, name + "_back." + ("ppm" if spp == 3 else "pgm"))
    run("ojph_expand", "-i", j2c, "-o", back)
    decoded = read_pnm(back).astype(src.dtype)
    with open(j2c, "rb") as f:
        stream = f.read()
    ds = pydicom.dcmread(os.path.join(tmp, source + ".dcm"))
    ds.file_meta.TransferSyntaxUID = ts
    origin = f"HTJ2K ({ts}), made by ojph_compress {' '.join(options)}"
    if qstep is None:
        if not np.array_equal(decoded, src):
            raise RuntimeError(f"{name}: OpenJPH's round trip is not lossless")
        save_case(name, ds, stream, src, pi, 0, origin, source=source)
    else:
        save_case(name, ds, stream, decoded, pi, 2, origin)  # OpenJPH's decode vs OpenJPEG's: rounding


def own_lossless_jpeg(name, source, predictor, point_transform, restart_interval, check_gdcm=True):
    """This script's encoder: restart intervals and interleaved colour; checked by GDCM and by dcmdjpeg."""
    spp, ba, bs, pr, pi = SOURCES[source]
    src = images[source]
    values = stored(src, bs, 0).astype(np.int64)
    stream = lossless_jpeg_encoder.encode(values, bs, predictor, point_transform, restart_interval)
    ds = pydicom.dcmread(os.path.join(tmp, source + ".dcm"))
    ts = "1.2.840.10008.1.2.4.70" if predictor == 1 else "1.2.840.10008.1.2.4.57"
    ds.file_meta.TransferSyntaxUID = ts
    ds.PixelData = pydicom.encaps.encapsulate([stream])
    ds["PixelData"].is_undefined_length = True
    ds["PixelData"].VR = "OB"
    path = os.path.join(tmp, name + ".dcm")
    ds.save_as(path, write_like_original=False)
    want = (values >> point_transform) << point_transform
    if check_gdcm and not np.array_equal(stored(gdcm_first_frame(pydicom.dcmread(path)), bs, pr), stored(want, bs, pr)):
        raise RuntimeError(f"{name}: GDCM does not decode this script's stream to the source")
    dcmtk_out = os.path.join(tmp, name + "_dcmdjpeg.dcm")
    run("dcmdjpeg", path, dcmtk_out)
    if not np.array_equal(stored(pydicom.dcmread(dcmtk_out).pixel_array, bs, pr), stored(want, bs, pr)):
        raise RuntimeError(f"{name}: dcmdjpeg does not decode this script's stream to the source")
    origin = (f"JPEG lossless SV{predictor} Pt={point_transform} restart={restart_interval}, made by "
              f"tools/lossless_jpeg_encoder.py, checked with {'GDCM and ' if check_gdcm else ''}dcmdjpeg")
    if point_transform == 0:
        save_case(name, ds, stream, src, pi, 0, origin, source=source)
    else:
        save_case(name, ds, stream, want.astype(src.dtype), pi, 0, origin)


def pydicom_case(filename):
    ds = pydicom.dcmread(os.path.join(PYDICOM_FILES, filename))
    stream = first_frame(ds)
    decoded = gdcm_first_frame(ds)
    pi = str(ds.PhotometricInterpretation)
    ts = ds.file_meta.TransferSyntaxUID
    lossy = ts in ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.81")
    tolerance = 0  # lossy streams too: libjpeg's ISLOW IDCT, OpenJPEG and CharLS are what GDCM runs
    if lossy and ts == "1.2.840.10008.1.2.4.50" and pi in ("YBR_FULL", "YBR_FULL_422") and decoded.ndim == 3:
        decoded = convert_color_space(decoded, "YBR_FULL", "RGB")
        pi = "RGB"
        tolerance = 2
    if pi in ("YBR_RCT", "YBR_ICT"):
        pi = "RGB"  # OpenJPEG (inside GDCM) has already undone the component transform
    name = "pydicom_" + os.path.splitext(filename)[0].replace("+", "_").replace("-", "_")
    save_case(name, ds, stream, decoded, pi, tolerance, f"pydicom test set: {filename}")


PYDICOM_CASES = [
    "693_J2KI.dcm", "GDCMJ2K_TextGBR.dcm", "JPEG-lossy.dcm", "JPEG2000.dcm",
    "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
    "SC_jpeg_no_color_transform.dcm", "SC_rgb_dcmtk_+eb+cr.dcm", "SC_rgb_dcmtk_+eb+cy+n1.dcm",
    "SC_rgb_dcmtk_+eb+cy+np.dcm", "SC_rgb_dcmtk_+eb+cy+s2.dcm",
    "SC_rgb_dcmtk_+eb+cy+s4.dcm", "SC_rgb_gdcm_KY.dcm", "SC_rgb_jpeg_gdcm.dcm", "SC_rgb_rle_32bit.dcm", "SC_rgb_small_odd_jpeg.dcm", "rtdose_rle.dcm",
]


def main():
    global tmp, images
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "sources"))
    tmp = tempfile.mkdtemp(prefix="codec_fixtures_")
    images = {}
    for name in SOURCES:
        images[name] = make_image(name)
        write_dicom(os.path.join(tmp, name + ".dcm"), images[name], name)
        with open(os.path.join(OUT, "sources", name + ".raw"), "wb") as f:
            f.write(images[name].tobytes())

    for src in SOURCES:
        add_compressed(f"rle_{src}", compress(f"rle_{src}", src, "dcmcrle"), src)
    for src in ("m8", "m12", "m16", "s12", "rgb8"):
        for sv in range(1, 8):
            add_compressed(f"jpll_{src}_sv{sv}", compress(f"jpll_{src}_sv{sv}", src, "dcmcjpeg", "+el", "+sv", str(sv)), src)
        add_compressed(f"jpsv1_{src}", compress(f"jpsv1_{src}", src, "dcmcjpeg", "+e1"), src)
    add_compressed("jpbase_m8", compress("jpbase_m8", "m8", "dcmcjpeg", "+eb", "+q", "85"), "m8", 0)
    add_compressed("jpbase_rgb8_422", compress("jpbase_rgb8_422", "rgb8", "dcmcjpeg", "+eb", "+q", "85"), "rgb8", 0, True)
    add_compressed("jpbase_rgb8_444", compress("jpbase_rgb8_444", "rgb8", "dcmcjpeg", "+eb", "+s4"), "rgb8", 0, True)
    add_compressed("jpbase_rgb8_411", compress("jpbase_rgb8_411", "rgb8", "dcmcjpeg", "+eb", "+n1"), "rgb8", 0, True)
    add_compressed("jpbase_rgb8_rgb", compress("jpbase_rgb8_rgb", "rgb8", "dcmcjpeg", "+eb", "+cr"), "rgb8", 0)
    add_compressed("jpext_m12", compress("jpext_m12", "m12", "dcmcjpeg", "+ee", "+q", "90"), "m12", 0)
    add_compressed("jpext_m8", compress("jpext_m8", "m8", "dcmcjpeg", "+ee"), "m8", 0)
    for src in ("m8", "m12", "m16", "s12", "rgb8"):
        add_compressed(f"jls_{src}", compress(f"jls_{src}", src, "dcmcjpls", "+el"), src)
    add_compressed("jls_rgb8_sample", compress("jls_rgb8_sample", "rgb8", "dcmcjpls", "+el", "+is"), "rgb8")
    add_compressed("jls_rgb8_none", compress("jls_rgb8_none", "rgb8", "dcmcjpls", "+el", "+in"), "rgb8")
    add_compressed("jlsnear_m12", compress("jlsnear_m12", "m12", "dcmcjpls", "+en", "+md", "3"), "m12", 0)
    add_compressed("jlsnear_m8", compress("jlsnear_m8", "m8", "dcmcjpls", "+en", "+md", "2"), "m8", 0)
    for src in ("m8", "m12", "m16", "s12", "s16", "rgb8"):
        add_compressed(f"j2k_{src}", compress(f"j2k_{src}", src, "gdcmconv", "--j2k"), src)
    add_compressed("j2klossy_m12", compress("j2klossy_m12", "m12", "gdcmconv", "--j2k", "--lossy", "-q", "40"), "m12", 0)
    add_compressed("j2klossy_rgb8", compress("j2klossy_rgb8", "rgb8", "gdcmconv", "--j2k", "--lossy", "-q", "40"), "rgb8", 0)
    htj2k_case("htj2k_m12", "m12", "1.2.840.10008.1.2.4.201")
    htj2k_case("htj2k_m8_rpcl", "m8", "1.2.840.10008.1.2.4.202", "-prog_order", "RPCL")
    htj2k_case("htj2k_rgb8", "rgb8", "1.2.840.10008.1.2.4.201")
    htj2k_case("htj2klossy_m12", "m12", "1.2.840.10008.1.2.4.203", qstep=0.002)
    own_lossless_jpeg("jpll_own_m12_sv1_ri45", "m12", 1, 0, COLS)
    own_lossless_jpeg("jpll_own_m16_sv4_ri90", "m16", 4, 0, 2 * COLS)
    own_lossless_jpeg("jpll_own_m12_sv7_pt2_ri135", "m12", 7, 2, 3 * COLS)
    own_lossless_jpeg("jpll_own_rgb8_sv2_ri45", "rgb8", 2, 0, COLS)
    own_lossless_jpeg("jpll_own_s16_sv6_ri45", "s16", 6, 0, COLS)
    own_lossless_jpeg("jpll_own_m2_sv5", "m2", 5, 0, 0, check_gdcm=False)  # GDCM asserts on 2-bit JPEG
    for f in PYDICOM_CASES:
        pydicom_case(f)

    with open(os.path.join(OUT, "cases.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c) for c in cases) + "\n]\n")
    shutil.rmtree(tmp)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
    print(f"{len(cases)} cases, {total // 1024} KiB in {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
