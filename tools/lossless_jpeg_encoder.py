"""A small JPEG lossless (process 14, ITU-T T.81 Annex H) encoder for test fixtures only.

dcmtk's dcmcjpeg writes no restart intervals and GDCM none either, so tools/make_codec_fixtures.py uses this to make
streams with restart intervals, point transforms and interleaved colour; every stream is checked there against
GDCM's and dcmdjpeg's decode before it becomes a fixture. Restart intervals should be whole rows of MCUs: the IJG
lossless decoders inside GDCM and dcmtk count them in rows.
"""
import numpy as np


def _predict(sv, ra, rb, rc):
    if sv == 1:
        return ra
    if sv == 2:
        return rb
    if sv == 3:
        return rc
    if sv == 4:
        return ra + rb - rc
    if sv == 5:
        return ra + ((rb - rc) >> 1)
    if sv == 6:
        return rb + ((ra - rc) >> 1)
    return (ra + rb) >> 1


def _category(diff):
    return 0 if diff == 0 else int(abs(diff)).bit_length()


class _Bits:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc, self.n = 0, 0

    def flush(self):
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)


def _segment(marker, payload):
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def encode(values, precision, predictor, point_transform=0, restart_interval=0):
    """values: (rows, cols) or (rows, cols, comps) non-negative ints below 2**precision. Returns the JPEG stream."""
    v = np.asarray(values, dtype=np.int64)
    if v.ndim == 2:
        v = v[:, :, None]
    rows, cols, comps = v.shape
    x = v >> point_transform
    p = precision - point_transform

    # Differences first (the Huffman table is fitted to them), in scan order.
    diffs = []
    mcu = 0
    first_line_until = -1  # the row up to which the "first line" rule applies
    for r in range(rows):
        for c in range(cols):
            if restart_interval and mcu % restart_interval == 0:
                restart_at = (r, c)
                first_line_until = r
            for k in range(comps):
                if (r, c) == restart_at if restart_interval else (r == 0 and c == 0):
                    pred = 1 << (p - 1)
                elif r <= first_line_until or r == 0:
                    pred = x[r, c - 1, k] if c > 0 else x[r - 1, c, k]
                elif c == 0:
                    pred = x[r - 1, c, k]
                else:
                    pred = _predict(predictor, int(x[r, c - 1, k]), int(x[r - 1, c, k]), int(x[r - 1, c - 1, k]))
                d = (int(x[r, c, k]) - int(pred)) & 0xFFFF
                if d >= 0x8000:
                    d -= 0x10000
                diffs.append(d)
            mcu += 1

    # A canonical Huffman table over SSSS 0..16, shorter codes for the more frequent categories.
    freq = np.zeros(17, dtype=np.int64)
    for d in diffs:
        freq[_category(d) if d != -0x8000 else 16] += 1
    order = sorted(range(17), key=lambda s: -freq[s])
    lengths_by_rank = [2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]
    length = {s: lengths_by_rank[i] for i, s in enumerate(order)}
    symbols = sorted(range(17), key=lambda s: (length[s], s))
    codes, code, prev = {}, 0, length[symbols[0]]
    for s in symbols:
        code <<= length[s] - prev
        prev = length[s]
        codes[s] = code
        code += 1
    counts = [sum(1 for s in symbols if length[s] == n) for n in range(1, 17)]

    out = bytearray(b"\xFF\xD8")
    sof = bytes([precision]) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + bytes([comps])
    sof += b"".join(bytes([k + 1, 0x11, 0]) for k in range(comps))
    out += _segment(0xC3, sof)
    out += _segment(0xC4, bytes([0x00]) + bytes(counts) + bytes(symbols))
    if restart_interval:
        out += _segment(0xDD, restart_interval.to_bytes(2, "big"))
    sos = bytes([comps]) + b"".join(bytes([k + 1, 0x00]) for k in range(comps))
    sos += bytes([predictor, 0, point_transform])
    out += _segment(0xDA, sos)

    bits = _Bits()
    i = 0
    for m in range(rows * cols):
        if restart_interval and m and m % restart_interval == 0:
            bits.flush()
            out += bits.out
            bits.out = bytearray()
            out += bytes([0xFF, 0xD0 + ((m // restart_interval - 1) % 8)])
        for _ in range(comps):
            d = diffs[i]
            i += 1
            s = 16 if d == -0x8000 else _category(d)
            bits.put(codes[s], length[s])
            if 0 < s < 16:
                bits.put(d if d > 0 else d - 1 + (1 << s), s)
    bits.flush()
    out += bits.out
    out += b"\xFF\xD9"
    return bytes(out)
