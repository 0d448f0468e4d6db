using SpineXR.Data;
using SpineXR.Vision;
using SpineXR.Vision.Training;
using TorchSharp;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr train classifier`: trains the normal/abnormal DenseNet into a run directory (resumable).</summary>
public sealed class TrainClassifierCommand : ICliCommand
{
    public string Name => "train classifier";
    public string Summary => "train the normal/abnormal classifier (DenseNet) into a run directory";
    public string Help => $"""
        usage: spinexr train classifier --data DATASET --out RUN_DIR [--preset paper|cpu] [--config FILE.json]
                                        [--init IMAGENET.pth|.safetensors] [key=value ...]

        Trains on DATASET's train split (a study-disjoint val_fraction held out for validation AUROC every
        eval_every steps; the best model is kept). The configuration is the preset (default paper), then the JSON
        file's keys, then key=value overrides, e.g. steps=2000 arch=densenet121 optimizer=adam_w (or section.key=value,
        solver.lr=0.01).
        --init starts from torchvision ImageNet weights (the classifier head is skipped).
        Running the same command again after a kill resumes from RUN_DIR/checkpoint.
        Writes RUN_DIR/model.json, weights.safetensors, metrics.json, log.csv, checkpoint/ (and
        failed_images.csv when some images could not be read: they are skipped, training goes on).

        presets:
          paper  DenseNet-201, 224 px, batch 32, 10k steps, SGD lr 0.01 momentum 0.9 wd 1e-4, x0.1 at 50%/75%
          cpu    small DenseNet (growth 12, blocks 2-4-6-4), 160 px, batch 16, 300 steps, AdamW lr 2e-3
        keys: {ConfigBinder.KeysBySection<ClassifierTrainConfig>()}
        exit codes: 0 done, 1 done but some images could not be read, 2 bad usage or nothing trainable
        """;

    public int Run(CliArgs args)
    {
        string data = args.Require("data");
        string outDir = args.Require("out");
        string preset = args.Get("preset") ?? "paper";
        if (!ClassifierTrainConfig.Presets.TryGetValue(preset, out var make))
            throw new UsageException($"unknown --preset '{preset}' (known: {string.Join(", ", ClassifierTrainConfig.Presets.Keys)})");
        var config = make();
        if (args.Get("config") is string cfgPath)
        {
            if (!File.Exists(cfgPath)) throw new UsageException($"--config {cfgPath}: no such file");
            config = ConfigBinder.ApplyJson(config, cfgPath);
        }
        try
        {
            config = config.With(args.Overrides);
            if (args.Get("init") is string init) config = config with { Solver = config.Solver with { Init = init } };
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.ParamName != null ? $"config {e.ParamName}: {e.Message}" : e.Message);
        }
        if (args.Positionals.Count > 0) throw new UsageException($"unexpected argument '{args.Positionals[0]}'");

        TorchRuntime.EnsureLoaded();
        var index = DatasetIndex.Load(data);
        index.Issues.Print(Console.Error);
        var images = index.Get("train");
        if (images.Count == 0) throw new InvalidOperationException($"{data}: no training images (annotations/train.csv)");
        var loader = ClassifierData.Loader(index, config.Model.InputSize);
        var samples = ClassifierData.Samples(images, loader);
        var (train, val) = ClassifierTrainer.SplitByStudy(samples, config.Input.ValFraction, config.Solver.Seed);
        Console.Error.WriteLine($"train classifier: {config.Model.Arch} {config.Model.InputSize}px, {train.Count} training images ({train.Count(s => s.Abnormal)} abnormal), " +
                                $"{val.Count} validation, {config.Solver.Steps} steps of {config.Solver.BatchSize}, {torch.get_num_threads()} torch threads");
        var run = new RunDirectory(outDir);
        var trainer = new ClassifierTrainer(config, run);
        var result = trainer.Train(train, val, new TrainingContext(ClassifierData.DataHash(index, "train"), Path.GetFullPath(data), preset));
        Console.WriteLine($"{run.Root}: {result.StepsDone} steps, validation AUROC {result.BestValAuroc:F4} (step {result.BestStep}), " +
                          $"{result.ImagesPerSecond:F1} img/s, {result.FailedImages.Count} unreadable images");
        return result.FailedImages.Count > 0 || index.Issues.HasErrors ? ExitCodes.SomeFailed : ExitCodes.Ok;
    }
}
