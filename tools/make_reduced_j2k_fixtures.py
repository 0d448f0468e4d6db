#!/usr/bin/python3
"""Makes Fixtures/Codecs/<case>.r<N>.raw: what OpenJPEG's own command-line decoder gives for the lossless JPEG 2000
fixtures j2k_m12 (12-bit grey) and j2k_rgb8 decoded N wavelet levels below full size (`opj_decompress -r N`), as
native little-endian samples (colour interleaved), the layout Jpeg2000Codec.DecodeReduced returns. The decoder under
test and this oracle share libopenjp2, so the fixture proves the plumbing (cp_reduce, sizes, sample copy, colour),
not OpenJPEG itself."""
import os, subprocess, sys, tempfile

here = os.path.join(os.path.dirname(__file__), '..', 'tests', 'SpineXR.Dicom.Tests', 'Fixtures', 'Codecs')


def read_pnm(path):
    data = open(path, 'rb').read()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by whitespace; '#' starts a comment line
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos)
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    channels = 3 if magic == b'P6' else 1
    width = 2 if maxval > 255 else 1
    body = data[pos:pos + w * h * channels * width]
    if width == 2:  # PNM is big-endian; DICOM native samples are little-endian
        body = b''.join(body[i + 1:i + 2] + body[i:i + 1] for i in range(0, len(body), 2))
    return w, h, body


for case, ext in (('j2k_m12', 'pgm'), ('j2k_rgb8', 'ppm')):
    for r in (1, 2):
        with tempfile.TemporaryDirectory() as d:
            j2k = os.path.join(d, 'a.j2k')
            open(j2k, 'wb').write(open(os.path.join(here, case + '.bin'), 'rb').read())
            out = os.path.join(d, 'a.' + ext)
            subprocess.run(['opj_decompress', '-i', j2k, '-o', out, '-r', str(r)], check=True, capture_output=True)
            w, h, body = read_pnm(out)
        target = os.path.join(here, f'{case}.r{r}.raw')
        open(target, 'wb').write(body)
        print(target, f'{w}x{h}', len(body), 'bytes')
sys.exit(0)
