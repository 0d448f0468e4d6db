#!/usr/bin/python3
"""Makes tests/SpineXR.Web.Tests/Fixtures/Hostile/: small files built to hurt `spinexr serve` (dimension and
decompression bombs, malformed LUTs, huge and lying text elements, corrupt code streams, deep nesting), each with the
answer the server must give in expected.csv (file, content type, HTTP status, a fragment of the problem's detail).
Standard library only (struct, zlib): every byte is written here, so nothing upstream can "fix" a fixture.
HostileFixtureTests posts each file to a real server and checks the answer, then that the server is idle and healthy.

Run from the repository root: python3 tools/make_hostile_fixtures.py"""
import os, struct, zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'SpineXR.Web.Tests', 'Fixtures', 'Hostile')
EXPLICIT_LE = '1.2.840.10008.1.2.1'
DEFLATED = '1.2.840.10008.1.2.1.99'
J2K_LOSSLESS = '1.2.840.10008.1.2.4.90'
JPEG_BASELINE = '1.2.840.10008.1.2.4.50'
JPEG_LS = '1.2.840.10008.1.2.4.80'
LONG_VRS = {b'OB', b'OW', b'OF', b'SQ', b'UT', b'UN', b'UC', b'UR', b'OD', b'OL', b'OV', b'SV', b'UV'}


def el(group, elem, vr, value, length=None):
    """One explicit VR little endian element; `length` overrides the length field (to lie)."""
    vr = vr.encode()
    if len(value) % 2:
        value += b'\0' if vr == b'UI' else b' '
    n = len(value) if length is None else length
    if vr in LONG_VRS:
        return struct.pack('<HH2sHI', group, elem, vr, 0, n) + value
    return struct.pack('<HH2sH', group, elem, vr, n) + value


def undefined_seq(group, elem, items):
    body = b''.join(struct.pack('<HHI', 0xFFFE, 0xE000, 0xFFFFFFFF) + i + struct.pack('<HHI', 0xFFFE, 0xE00D, 0) for i in items)
    return struct.pack('<HH2sHI', group, elem, b'SQ', 0, 0xFFFFFFFF) + body + struct.pack('<HHI', 0xFFFE, 0xE0DD, 0)


def us(*values):
    return struct.pack('<%dH' % len(values), *values)


def part10(ts, dataset, deflate=False):
    meta = el(2, 0x0001, 'OB', b'\0\1') + el(2, 0x0002, 'UI', b'1.2.840.10008.5.1.4.1.1.1.1') + \
        el(2, 0x0003, 'UI', b'1.2.826.0.1.3680043.8.498.18') + el(2, 0x0010, 'UI', ts.encode())
    head = b'\0' * 128 + b'DICM' + el(2, 0x0000, 'UL', struct.pack('<I', len(meta))) + meta
    if deflate:
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        dataset = z.compress(dataset) + z.flush()
    return head + dataset


def ids():
    return el(0x0008, 0x0016, 'UI', b'1.2.840.10008.5.1.4.1.1.1.1') + el(0x0008, 0x0018, 'UI', b'1.2.826.0.1.3680043.8.498.18') + \
        el(0x0010, 0x0010, 'PN', b'HOSTILE^FIXTURE')


def pixel_module(rows, cols, bits=16, stored=12, photometric=b'MONOCHROME2', extra=b''):
    return el(0x0028, 0x0002, 'US', us(1)) + el(0x0028, 0x0004, 'CS', photometric) + extra + \
        el(0x0028, 0x0010, 'US', us(rows)) + el(0x0028, 0x0011, 'US', us(cols)) + \
        el(0x0028, 0x0100, 'US', us(bits)) + el(0x0028, 0x0101, 'US', us(stored)) + \
        el(0x0028, 0x0102, 'US', us(stored - 1)) + el(0x0028, 0x0103, 'US', us(0))


def native_pixels(rows, cols, nbytes=None):
    data = bytes((i * 7) & 0xFF for i in range(rows * cols * 2 if nbytes is None else nbytes))
    return el(0x7FE0, 0x0010, 'OW', data)


def encapsulated(fragment):
    frag = fragment + (b'\0' if len(fragment) % 2 else b'')
    return struct.pack('<HH2sHI', 0x7FE0, 0x0010, b'OB', 0, 0xFFFFFFFF) + struct.pack('<HHI', 0xFFFE, 0xE000, 0) + \
        struct.pack('<HHI', 0xFFFE, 0xE000, len(frag)) + frag + struct.pack('<HHI', 0xFFFE, 0xE0DD, 0)


def j2k_header(width, height, precision=12):
    siz = struct.pack('>HHH8IH', 0xFF51, 41, 0, width, height, 0, 0, width, height, 0, 0, 1) + bytes([precision - 1, 1, 1])
    cod = struct.pack('>HHBBHBBBBBB', 0xFF52, 12, 0, 0, 1, 0, 5, 4, 4, 0, 1)
    return b'\xFF\x4F' + siz + cod


def png(width, height, rows_of_data, bit_depth=8, truncate=None):
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b''.join(b'\0' + bytes(x & 0xFF for x in range(width)) for _ in range(rows_of_data))
    body = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, bit_depth, 0, 0, 0, 0)) + \
        chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    return body[:truncate] if truncate else body


def fixtures():
    small = pixel_module(8, 8)
    yield 'bomb_j2k_16384.dcm', 'application/dicom', 413, '--max-megapixels', part10(
        J2K_LOSSLESS, ids() + pixel_module(16384, 16384) + encapsulated(j2k_header(16384, 16384) + b'\xFF\x90' + b'\0' * 64))
    yield 'bomb_jpeg_16384.dcm', 'application/dicom', 413, '--max-megapixels', part10(
        JPEG_BASELINE, ids() + pixel_module(16384, 16384, 8, 8) +
        encapsulated(b'\xFF\xD8' + struct.pack('>HHBHHBBBB', 0xFFC0, 11, 8, 16384, 16384, 1, 1, 0x11, 0) + b'\xFF\xD9'))
    yield 'bomb_png_16384.png', 'image/png', 413, '--max-megapixels', png(16384, 16384, 4)
    yield 'bomb_deflate_80mib.dcm', 'application/dicom', 400, 'inflates beyond', part10(
        DEFLATED, ids() + small + el(0x0009, 0x1000, 'OB', b'\0' * (80 << 20)) + native_pixels(8, 8), deflate=True)
    voi = el(0x0028, 0x3002, 'UL', struct.pack('<III', 1500000000, 0, 16)) + el(0x0028, 0x3006, 'OW', b'\0' * 4)
    # The reference conversion falls back to no VOI on a bad VOI LUT (with a warning), so this one is predicted;
    # what it must not do is allocate the 6 GB its descriptor asks for (the test bounds the allocation).
    yield 'lut_voi_ul_1500000000.dcm', 'application/dicom', 200, '', part10(
        EXPLICIT_LE, ids() + small + undefined_seq(0x0028, 0x3010, [voi]) + native_pixels(8, 8))
    modality = el(0x0028, 0x3002, 'US', us(256, 0)) + el(0x0028, 0x3006, 'OW', b'\0' * 512)
    yield 'lut_modality_2_values.dcm', 'application/dicom', 400, 'needs 3 values', part10(
        EXPLICIT_LE, ids() + undefined_seq(0x0028, 0x3000, [modality]) + small + native_pixels(8, 8))
    yield 'text_lying_length.dcm', 'application/dicom', 400, 'needs 4294967280 bytes', part10(
        EXPLICIT_LE, ids() + el(0x0040, 0xA160, 'UT', b'short', length=0xFFFFFFF0) + small + native_pixels(8, 8))
    yield 'text_half_mib_valid.dcm', 'application/dicom', 200, '', part10(
        EXPLICIT_LE, ids() + el(0x0040, 0xA160, 'UT', b'A' * (512 << 10)) + small + native_pixels(8, 8))
    yield 'not_dicom.dcm', 'application/dicom', 400, 'not a DICOM file', b'hello, this is not an image\n' * 8
    yield 'pixels_truncated.dcm', 'application/dicom', 400, 'pixel data holds 100 bytes', part10(
        EXPLICIT_LE, ids() + pixel_module(64, 64) + native_pixels(64, 64, nbytes=100))
    yield 'frames_2147483647.dcm', 'application/dicom', 400, 'frames need', part10(
        EXPLICIT_LE, ids() + el(0x0028, 0x0008, 'IS', b'2147483647') + small + native_pixels(8, 8))
    nested = b''
    for _ in range(40):
        nested = undefined_seq(0x0040, 0xA730, [nested])
    yield 'nesting_40_deep.dcm', 'application/dicom', 400, 'nested deeper than 32', part10(
        EXPLICIT_LE, ids() + nested + small + native_pixels(8, 8))
    yield 'png_truncated.png', 'image/png', 400, 'PNG', png(64, 64, 64, truncate=70)
    yield 'j2k_corrupt.dcm', 'application/dicom', 400, 'JPEG 2000', part10(
        J2K_LOSSLESS, ids() + pixel_module(64, 64) + encapsulated(j2k_header(64, 64) + b'\xFF\x90\x00\x0A' + b'\xA5' * 200 + b'\xFF\xD9'))
    yield 'jpegls_corrupt.dcm', 'application/dicom', 400, 'JPEG-LS', part10(
        JPEG_LS, ids() + pixel_module(64, 64) + encapsulated(b'\xFF\xD8\xFF\xF7' + b'\x5A' * 120 + b'\xFF\xD9'))


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = ['file,content_type,status,detail_contains']
    for name, ctype, status, detail, data in fixtures():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)
        rows.append(f'{name},{ctype},{status},{detail}')
        print(f'{name}: {len(data)} bytes -> {status} {detail}')
    with open(os.path.join(OUT, 'expected.csv'), 'w') as f:
        f.write('\n'.join(rows) + '\n')


if __name__ == '__main__':
    main()
