#!/usr/bin/env python3
"""Checks ONNX files written by `spinexr model export` with the onnx package's checker (Debian: apt-get install python3-onnx).

usage: python3 tools/onnx/check_onnx.py MODEL.onnx [MODEL.onnx ...]

For each file: onnx.checker.check_model(full_check=True) (structure, opset schemas, and shape inference in strict mode),
then prints the IR version, the opsets, the input/output shapes after inference and the operator counts.
Exit 0 when every file passes, 1 otherwise. A development tool; no test runs it (the tests use ONNX Runtime from NuGet).
"""
import collections
import sys

import onnx


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def check(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    ops = collections.Counter(n.op_type for n in model.graph.node)
    opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    print(f"{path}: OK (onnx {onnx.__version__} checker, full_check): IR {model.ir_version}, opset {opsets}, "
          f"{len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers")
    for v in inferred.graph.input:
        print(f"  input  {v.name} {dims(v)}")
    for v in inferred.graph.output:
        print(f"  output {v.name} {dims(v)}")
    print("  ops: " + ", ".join(f"{k} {c}" for k, c in sorted(ops.items())))


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        try:
            check(path)
        except Exception as e:  # the checker raises ValidationError / InferenceError; report and go on
            print(f"{path}: FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
