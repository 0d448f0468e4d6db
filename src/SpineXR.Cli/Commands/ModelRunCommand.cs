using SpineXR.Vision;
using SpineXR.Vision.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using TorchSharp;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr model run`: one eval-mode forward pass of a registered architecture on an .npy tensor.</summary>
public sealed class ModelRunCommand : ICliCommand
{
    public string Name => "model run";
    public string Summary => "run one forward pass of a model on a float32 NCHW .npy (torchvision weights)";
    public string Help => $"""
        usage: spinexr model run --arch ARCH --weights FILE(.pth|.safetensors) --input X.npy --out DIR

        Builds ARCH, loads the state dict strictly (torchvision parameter names; a torch.save'd .pth or a
        .safetensors; the number of classes comes from the weights), runs it in eval mode under no_grad on
        the float32 N x C x H x W array and writes DIR/output.npy (classifiers: logits) or
        DIR/detections.json (detectors: per image boxes xyxy, scores, labels in input pixels).

        architectures: {string.Join(", ", Architectures.Names)}
        exit codes: 0 done, 2 bad usage or unreadable/mismatched inputs
        """;

    public int Run(CliArgs args)
    {
        string arch = args.Require("arch");
        string weightsPath = args.Require("weights");
        string inputPath = args.Require("input");
        string outDir = args.Require("out");
        if (!Architectures.TryGet(arch, out var runner))
            throw new UsageException($"unknown --arch '{arch}' (known: {string.Join(", ", Architectures.Names)})");
        TorchRuntime.EnsureLoaded();
        var array = Npy.Read(inputPath);
        var weights = StateDict.Read(weightsPath);
        try
        {
            using var input = torch.tensor(array.Data, array.Shape);
            Directory.CreateDirectory(outDir);
            foreach (var f in runner.Run(arch, weights, input, outDir)) Console.WriteLine(f);
            return ExitCodes.Ok;
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
