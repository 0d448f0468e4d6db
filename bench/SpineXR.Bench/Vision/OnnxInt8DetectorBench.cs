// `bench onnx-int8-detector RUN OUT.onnx CALIBRATION_DIR [N]`: the int8 export of a detector run, which `spinexr model
// export` refuses (docs/onnx.md#quantisation: it moved the demo's mAP@0.5 by more than the 0.5 point the option needs),
// written for measuring it again (bench/scripts/onnx-quant-detector-metrics.sh).
using System.Globalization;
using SpineXR.Inference;
using SpineXR.Vision.Onnx;

namespace SpineXR.Bench.Vision;

/// <summary>Writes a detector run's int8 ONNX export (the library path the CLI keeps for classifiers).</summary>
public sealed class OnnxInt8DetectorBench : IBench
{
    public string Name => "onnx-int8-detector";
    public string Summary => "int8 ONNX export of a detector run (for measuring its metric change; the CLI refuses it)";

    public int Run(string[] args)
    {
        if (args.Length is < 3 or > 4)
        {
            Console.Error.WriteLine("usage: onnx-int8-detector RUN OUT.onnx CALIBRATION_DIR [N=256]");
            return 2;
        }
        var errors = new List<(string File, string Reason)>();
        var files = InputFiles.Expand([args[2]], errors);
        if (errors.Count > 0)
        {
            Console.Error.WriteLine($"{errors[0].File}: {errors[0].Reason}");
            return 2;
        }
        int n = args.Length == 4 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 256;
        var r = DetectorOnnxExport.ExportRun(args[0], args[1], InputFiles.Spread(files, n));
        Console.WriteLine($"{r.Path}: {r.Architecture}, {r.Nodes} nodes, {r.Initializers} initializers, {r.Bytes} bytes");
        return 0;
    }
}
