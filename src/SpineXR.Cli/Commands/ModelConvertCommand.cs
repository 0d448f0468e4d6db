using SpineXR.Vision;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr model convert`: checks a state dict against an architecture and rewrites it as .safetensors.</summary>
public sealed class ModelConvertCommand : ICliCommand
{
    public string Name => "model convert";
    public string Summary => "check weights against an architecture and write them as .safetensors";
    public string Help => $"""
        usage: spinexr model convert --arch ARCH --weights FILE(.pth|.safetensors) --out FILE.safetensors

        Loads the state dict strictly into ARCH (every key and shape must match; the report lists the
        offenders otherwise) and writes the model's state dict, torchvision names, as safetensors
        (loadable in PyTorch with safetensors.torch.load_file).

        architectures: {string.Join(", ", ClassifierArchitectures.All)}
        exit codes: 0 done, 2 bad usage or mismatched weights
        """;

    public int Run(CliArgs args)
    {
        string arch = args.Require("arch");
        string weightsPath = args.Require("weights");
        string outPath = args.Require("out");
        if (!ClassifierArchitectures.Registry.TryGet(arch, out var entry))
            throw new UsageException(ClassifierArchitectures.Registry.Unknown(arch));
        TorchRuntime.EnsureLoaded();
        var weights = StateDict.Read(weightsPath);
        try
        {
            using var model = entry.Build(weights);
            var report = StateDict.Load(model, weights, source: weightsPath);
            StateDict.SaveSafeTensors(model, outPath);
            Console.WriteLine($"{outPath}: {report}");
            return ExitCodes.Ok;
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
