using System.Text.Json;
using SpineXR.Synthesis;
using SpineXR.Vision;
using SpineXR.Vision.Detection;
using SpineXR.Evaluation;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Training;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr train detector`: trains Faster R-CNN or RetinaNet on a dataset's train split.</summary>
public sealed class TrainDetectorCommand : ICliCommand
{
    public string Name => "train detector";
    public string Summary => "train a lesion detector (Faster R-CNN, RetinaNet, Sparse R-CNN or EfficientDet-D0..D3)";
    public string Help => $"""
        usage: spinexr train detector --arch faster-rcnn|retinanet|sparse-rcnn|efficientdet-d0..d3 (--data DATASET | --synthetic STUDIES [--synthetic-seed S])
                                      --out RUN_DIR [--preset paper|cpu] [--config FILE.json] [--init WEIGHTS] [key=value ...]

        Trains on the train split (a validation part held out by study, val_fraction), evaluates mAP@0.5 on it every
        eval_every steps, keeps the best model in RUN_DIR/weights.safetensors + model.json, logs RUN_DIR/log.csv and
        checkpoints RUN_DIR/checkpoint/ (run the same command again to resume after a kill).
          --preset        paper (R50-FPN, 800/1333, lr 1e-3, batch 16, 50k iters; EfficientDet: the published Dn at its size)
                          or cpu (narrow R18-FPN, ~400 px; EfficientDet: D0's graph at 512 px, half-width B0; default)
          --init          torchvision weights: a COCO detector (class layers re-initialised when the class count differs)
                          or an ImageNet ResNet/EfficientNet (backbone only); an effdet EfficientDet checkpoint (names
                          mapped); .pth or .safetensors
          --synthetic     train on N synthetic studies rendered in memory (same scenes as `data synth --studies N`)
          key=value       any setting in snake_case, e.g. max_iters=500 lr=0.01 min_sizes=384,416 max_minutes=20, or
                          section.key=value (solver.lr=0.01); min_sizes also sets the test size min_size to its last
        keys: {ConfigBinder.KeysBySection<DetectorTrainConfig>()}
        exit codes: 0 done (or time budget reached, resumable), 1 done but some images failed, 2 bad usage
        """;

    public int Run(CliArgs args)
    {
        string arch = args.Require("arch");
        if (!DetectorRegistry.TryGet(arch, out _)) throw new UsageException(DetectorRegistry.Registry.Unknown(arch));
        string outDir = args.Require("out");
        string preset = args.Get("preset") ?? "cpu";
        DetectorTrainConfig config;
        try
        {
            config = DetectorTrainConfig.Preset(preset, arch);
            if (args.Get("config") is { } cfgPath)
            {
                if (!File.Exists(cfgPath)) throw new UsageException($"--config {cfgPath}: no such file");
                config = config.WithJson(cfgPath);
            }
            config = config.With(args.Overrides).Validate();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or JsonException)
        {
            throw new UsageException(e.Message);
        }

        IDetectionDataSource train, val;
        IDetectionDataSource? test = null;
        if (args.Get("synthetic") is { } synth)
        {
            int studies = int.TryParse(synth, out int n) && n > 0 ? n : throw new UsageException("--synthetic expects a positive number of studies");
            var opts = new SynthOptions { Studies = studies, Seed = args.GetInt("synthetic-seed", 11) }.Validate();
            (train, val) = SyntheticDetectionSource.TrainAndValidation(opts, config.Input.ValFraction, (int)config.Solver.Seed);
            test = new SyntheticDetectionSource(opts, "test");
        }
        else
        {
            string data = args.Get("data") ?? throw new UsageException("--data DATASET or --synthetic STUDIES is required");
            (train, val, test) = DatasetSources.Open(data, config);
        }

        TorchRuntime.EnsureLoaded();
        var trainer = new DetectorTrainer(config, train, val, outDir) { InitWeights = args.Get("init") };
        var result = trainer.Run();
        Console.WriteLine($"steps {result.Steps}{(result.Finished ? "" : " (stopped early; run again to resume)")}, best validation mAP@0.5 {result.BestMap50:F4} at step {result.BestStep}, {result.ImagesPerSecond:F2} img/s");
        var metrics = new System.Text.Json.Nodes.JsonObject
        {
            ["steps"] = result.Steps,
            ["val_map50"] = result.BestMap50 >= 0 ? result.BestMap50 : null,
            ["best_step"] = result.BestStep,
            ["train_images_per_s"] = Math.Round(result.ImagesPerSecond, 3),
        };
        if (test is not null && test.Samples.Count > 0)
        {
            double m = DetectorEvaluation.Evaluate(outDir, test);
            metrics["test_map50"] = m;
            metrics["test_images"] = test.Samples.Count;
            Console.WriteLine($"test mAP@0.5 {m:F4} ({test.Samples.Count} images)");
        }
        SpineXR.IO.AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.json"), metrics.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return result.FailedImages.Count > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;
    }
}
