#!/usr/bin/python3
"""Makes Fixtures/Codecs/htj2k_m12_abort.bin: the OpenJPH HTJ2K fixture with one byte of a code block's MEL segment
set to 0xFF (offset 618, found by fuzzing). Debian 12's OpenJPEG 2.5.0 aborts on it:
  ht_dec.c:319: mel_init: Assertion `melp->unstuff == OPJ_FALSE || melp->data[0] <= 0x8F' failed.
The script checks that opj_decompress (libopenjp2-tools) still dies of SIGABRT, so the fixture keeps proving what the
DecodeHost tests claim."""
import os, subprocess, sys, tempfile

here = os.path.join(os.path.dirname(__file__), '..', 'tests', 'SpineXR.Dicom.Tests', 'Fixtures', 'Codecs')
data = bytearray(open(os.path.join(here, 'htj2k_m12.bin'), 'rb').read())
assert data[618] == 0xD8, 'the source fixture changed'
data[618] = 0xFF
out = os.path.join(here, 'htj2k_m12_abort.bin')
open(out, 'wb').write(data)
with tempfile.TemporaryDirectory() as d:
    j2k = os.path.join(d, 'a.j2k')
    open(j2k, 'wb').write(data)
    r = subprocess.run(['opj_decompress', '-i', j2k, '-o', os.path.join(d, 'a.pgm')], capture_output=True, text=True)
    print(out, 'opj_decompress exit', r.returncode, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else '')
    sys.exit(0 if r.returncode == -6 else 1)
