#!/usr/bin/env python3
"""Opens SpineXR's DICOM results (SR and GSPS from `spinexr predict --dicom-sr --gsps`) with pydicom and prints what
it reads: an independent reader's view of our writer. Never run by the tests (no Python at test time).

usage: python3 tools/check_dicom_results_pydicom.py OUT_DIR_or_FILES...   (needs python3-pydicom, scripts/setup.sh --dev)
Exit code 1 when a file does not open or lacks what it must hold.
"""
import glob
import os
import sys

import pydicom


def walk(items, depth=0):
    for it in items:
        name = it.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in it else ""
        value = ""
        if it.ValueType == "CODE":
            c = it.ConceptCodeSequence[0]
            value = f"({c.CodeValue}, {c.CodingSchemeDesignator}, {c.CodeMeaning})"
        elif it.ValueType == "NUM":
            value = str(it.MeasuredValueSequence[0].NumericValue)
        elif it.ValueType == "SCOORD":
            value = f"{it.GraphicType} {list(it.GraphicData)}"
        elif it.ValueType in ("TEXT", "UIDREF"):
            value = it.get("TextValue", it.get("UID", ""))
        print("  " * depth + f"{it.RelationshipType} {it.ValueType} {name} {value}")
        if "ContentSequence" in it:
            walk(it.ContentSequence, depth + 1)


def check(path):
    ds = pydicom.dcmread(path)
    sop = ds.SOPClassUID
    print(f"{path}: {sop.name} study {ds.StudyInstanceUID} series {ds.SeriesInstanceUID}")
    if sop in ("1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.88.34"):  # Enhanced, Comprehensive (3D)
        assert ds.ConceptNameCodeSequence[0].CodeValue == "126000", "root is not TID 1500"
        assert ds.VerificationFlag == "UNVERIFIED"
        walk(ds.ContentSequence, 1)
    elif sop == "1.2.840.10008.5.1.4.1.1.11.1":
        for ann in ds.GraphicAnnotationSequence:
            ref = ann.ReferencedImageSequence[0].ReferencedSOPInstanceUID
            for g in ann.get("GraphicObjectSequence", []):
                print(f"  {ann.GraphicLayer} {g.GraphicType} {list(g.GraphicData)} on {ref}")
            for t in ann.get("TextObjectSequence", []):
                print(f"  {ann.GraphicLayer} text '{t.UnformattedTextValue}'")
    else:
        raise AssertionError(f"unexpected SOP class {sop}")


def main(args):
    files = []
    for a in args:
        files += sorted(glob.glob(os.path.join(a, "dicom", "sr", "*.dcm")) + glob.glob(os.path.join(a, "dicom", "pr", "*.dcm"))) if os.path.isdir(a) else [a]
    if not files:
        print("no SR/GSPS files found", file=sys.stderr)
        return 1
    bad = 0
    for f in files:
        try:
            check(f)
        except Exception as e:  # one line per bad file, then go on
            print(f"{f}: {e}", file=sys.stderr)
            bad += 1
    print(f"{len(files) - bad} of {len(files)} opened and checked")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
