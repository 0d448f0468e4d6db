// Training configuration of the lesion detectors: the model (what model.json rebuilds), the solver and the input
// pipeline (docs/training.md). Presets: `paper` follows VinDr-SpineXR (R50-FPN, 800/1333, SGD lr 1e-3, batch 16, 50k
// iterations, repeat-factor sampling t=0.1, images without boxes left out); `cpu` is a narrow ResNet-18-FPN at ~400 px
// that learns the synthetic data in tens of minutes on two cores. Each architecture's registry entry (DetectorRegistry)
// adjusts both presets to itself.
using System.Text.Json;

namespace SpineXR.Vision.Configuration;

/// <summary>Everything a detector training run depends on, in three sections; keys bind as `key=value` or `section.key=value`.</summary>
public sealed record DetectorTrainConfig
{
    /// <summary>The network and how it runs: all that model.json keeps for loading.</summary>
    public DetectorModelConfig Model { get; init; } = new();

    /// <summary>Optimisation, schedule, run length, intervals, seed.</summary>
    public DetectorSolverConfig Solver { get; init; } = new();

    /// <summary>Training sizes, sampling, augmentation, validation hold-out.</summary>
    public DetectorInputConfig Input { get; init; } = new();

    /// <summary>The official configuration (see docs/design.md), adjusted by the architecture's registry entry.</summary>
    public static DetectorTrainConfig Paper(string arch) => DetectorRegistry.Get(arch).Paper(new() { Model = new() { Arch = arch } });

    /// <summary>Small, from-scratch configuration for two CPU cores (the demo), adjusted by the architecture's registry entry.</summary>
    public static DetectorTrainConfig Cpu(string arch) => DetectorRegistry.Get(arch).Cpu(new()
    {
        Model = new()
        {
            Arch = arch,
            Backbone = "resnet18",
            BaseWidth = 32,
            FpnChannels = 128,
            RepresentationSize = 256,
            TrainableLayers = 5,
            FrozenBatchNorm = false,
            MinSize = 448,
            MaxSize = 640,
            AnchorSizes = [16, 32, 64, 128, 256],
            RpnBatchSizePerImage = 256,
            RoiBatchSizePerImage = 128,
            RpnPreNmsTopNTrain = 1000,
            RpnPostNmsTopNTrain = 500,
            RpnPreNmsTopNTest = 500,
            RpnPostNmsTopNTest = 300,
        },
        Solver = new()
        {
            BatchSize = 4,
            Lr = 0.02,
            ClipGradNorm = 10,
            WarmupIters = 100,
            Steps = [1400, 1800],
            MaxIters = 2000,
            // the issues' budget on two cores: 30 minutes (Sparse R-CNN's entry gives itself 60)
            MaxMinutes = 28,
            EvalEvery = 250,
            CheckpointEvery = 100,
            LogEvery = 10,
        },
        Input = new() { MinSizes = [352, 384, 416, 448] },
    });

    /// <summary>The preset names <see cref="Preset"/> knows.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["paper", "cpu"];

    public static DetectorTrainConfig Preset(string name, string arch) => name switch
    {
        "paper" => Paper(arch),
        "cpu" => Cpu(arch),
        _ => throw new ArgumentException($"unknown preset '{name}' ({string.Join(", ", Presets)})", nameof(name)),
    };

    /// <summary>Checks every section and how they fit together; ArgumentException names the field.</summary>
    public DetectorTrainConfig Validate()
    {
        Model.Validate();
        Solver.Validate();
        Input.Validate();
        if (Model.MaxSize < Input.MinSizes.Max()) throw new ArgumentException("must be >= the largest min size", nameof(Model.MaxSize));
        // validation during training runs the training network at the last of its sizes, and the loaded model at MinSize
        if (Input.MinSizes[^1] != Model.MinSize)
            throw new ArgumentException($"the last of min_sizes ({Input.MinSizes[^1]}) must be the model's min_size ({Model.MinSize}), the size it is validated and run at", nameof(Input.MinSizes));
        return this;
    }

    /// <summary>
    /// Applies `key=value` overrides with the binder every configuration uses (<see cref="ConfigBinder"/>). Setting
    /// min_sizes without min_size also sets the model's test size to the last of them, as before the split.
    /// </summary>
    public DetectorTrainConfig With(IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var bound = new HashSet<string>(StringComparer.Ordinal);
        return ConfigBinder.ApplyOverrides(this, overrides, bound).TestSizeFollows(bound);
    }

    /// <summary>Overlays a JSON config file (flat keys or section objects), with the min_sizes rule of <see cref="With"/>.</summary>
    public DetectorTrainConfig WithJson(string path)
    {
        var bound = new HashSet<string>(StringComparer.Ordinal);
        return ConfigBinder.ApplyJson(this, path, bound).TestSizeFollows(bound);
    }

    /// <summary>A configuration as saved (model.json's config, a checkpoint's trainer.json): sections, or the flat layout written before the split.</summary>
    public static DetectorTrainConfig FromJson(JsonElement json)
    {
        var bound = new HashSet<string>(StringComparer.Ordinal);
        return ConfigBinder.ApplyJson(new DetectorTrainConfig(), json, bound: bound).TestSizeFollows(bound);
    }

    /// <summary>The saved form: <c>{"model": ..., "solver": ..., "input": ...}</c>.</summary>
    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, ConfigBinder.Json);

    private DetectorTrainConfig TestSizeFollows(HashSet<string> bound) =>
        bound.Contains("input.min_sizes") && !bound.Contains("model.min_size") && Input.MinSizes.Length > 0
            ? this with { Model = Model with { MinSize = Input.MinSizes[^1] } }
            : this;

    /// <summary>Builds the untrained network to train, drawing its training sizes from <see cref="DetectorInputConfig.MinSizes"/>.</summary>
    public TorchSharp.torch.nn.Module BuildModel(int numClasses) => Model.BuildModel(numClasses, Input.MinSizes);
}
