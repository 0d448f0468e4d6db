// Training configuration of the abnormality classifier: model, solver and input sections. Paper: VinDr-SpineXR
// (Nguyen et al., MICCAI 2021), section 3.2 and the official configs: DenseNet at 224x224, BCE, SGD lr 0.01
// momentum 0.9, batch 32, 10k iterations, learning rate x0.1 at 50% and 75%, gradient clipping, horizontal flip.
using System.Text.Json;

namespace SpineXR.Vision.Configuration;

/// <summary>Every knob of classifier training, with the paper's values as defaults. Presets: <see cref="Paper"/>, <see cref="Cpu"/>.</summary>
public sealed record ClassifierTrainConfig
{
    /// <summary>The network, its input size and normalisation, its loss.</summary>
    public ClassifierModelConfig Model { get; init; } = new();

    /// <summary>Optimisation, schedule, run length, intervals, seed, starting weights.</summary>
    public ClassifierSolverConfig Solver { get; init; } = new();

    /// <summary>Sampling, augmentation, validation hold-out, loader threads.</summary>
    public ClassifierInputConfig Input { get; init; } = new();

    /// <summary>The paper's setting: DenseNet-201, 224 px, batch 32, 10k SGD steps, lr 0.01 with steps at 50%/75%.</summary>
    public static ClassifierTrainConfig Paper => new();

    /// <summary>
    /// For a 2-core CPU in minutes (DenseNet-121 is too slow there; docs/training.md): the small DenseNet
    /// (growth 12, blocks 2-4-6-4) at 160 px, batch 16, 300 steps of AdamW (lr 2e-3, warm-up 20) with small rotation
    /// and brightness/contrast augmentation; validation every 50 steps.
    /// </summary>
    public static ClassifierTrainConfig Cpu => new()
    {
        Model = new() { Arch = "densenet_small", InputSize = 160 },
        Solver = new()
        {
            BatchSize = 16,
            Steps = 300,
            Optimizer = OptimizerKind.AdamW,
            Lr = 2e-3,
            WeightDecay = 1e-4,
            WarmupSteps = 20,
            EvalEvery = 50,
            CheckpointEvery = 50,
            LogEvery = 10,
        },
        Input = new() { RotationDegrees = 5, BrightnessContrast = 0.1 },
    };

    public static IReadOnlyDictionary<string, Func<ClassifierTrainConfig>> Presets { get; } = new Dictionary<string, Func<ClassifierTrainConfig>>
    {
        ["paper"] = () => Paper,
        ["cpu"] = () => Cpu,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public ClassifierTrainConfig Validate()
    {
        Model.Validate();
        Solver.Validate();
        Input.Validate();
        return this;
    }

    /// <summary>Applies `key=value` overrides (flat keys or `section.key`) with <see cref="ConfigBinder"/>.</summary>
    public ClassifierTrainConfig With(IEnumerable<KeyValuePair<string, string>> overrides) => ConfigBinder.ApplyOverrides(this, overrides);

    /// <summary>A configuration as saved (model.json's provenance.config, a checkpoint's trainer.json): sections, or the flat layout written before the split.</summary>
    public static ClassifierTrainConfig FromJson(JsonElement json) => ConfigBinder.ApplyJson(new ClassifierTrainConfig(), json);

    /// <summary>The saved form: <c>{"model": ..., "solver": ..., "input": ...}</c>.</summary>
    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, ConfigBinder.Json);
}
