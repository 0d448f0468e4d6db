using SpineXR.Data;
using SpineXR.Diagnostics;
using SpineXR.Imaging;
using SpineXR.IO;
using SpineXR.Synthesis;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr data synth`: writes a synthetic dataset in the VinDr-SpineXR layout.</summary>
public sealed class DataSynthCommand : ICliCommand
{
    public string Name => "data synth";
    public string Summary => "write a synthetic spine-radiograph dataset (VinDr-SpineXR layout)";
    public string Help => """
        usage: spinexr data synth --out DIR [--studies N] [--seed S] [options]

        Writes DIR/annotations/{train,test}.csv and DIR/{train,test}_images/<image_id>.dicom: lumbar and
        cervical spine radiographs, AP and lateral, about half with lesions of the seven classes, boxes exact.
        Same seed and options, same bytes.

        options:
          --studies N           studies (1-3 images each), default 100
          --seed S              seed, default 1
          --test-fraction F     fraction of studies in the test split, default 0.2
          --abnormal F          probability that an image draws lesions, default 0.4 (about half end abnormal)
          --size-scale F        image size factor (1: long side about 1000-1200 px), default 1
          --uncompressed F      fraction of files not JPEG 2000 compressed, default 0.15
          --monochrome1 F       fraction of MONOCHROME1 files, default 0.25
          --workers N           parallel workers, default: processor count
          --preview FILE.png    also write one generated image with its boxes drawn

        exit codes: 0 done, 2 bad usage or nothing written
        """;

    public int Run(CliArgs args)
    {
        string outDir = args.Require("out");
        var defaults = new SynthOptions();
        SynthOptions options;
        try
        {
            options = new SynthOptions
            {
                Studies = args.GetInt("studies", defaults.Studies),
                Seed = args.GetInt("seed", (int)defaults.Seed),
                TestFraction = args.GetDouble("test-fraction", defaults.TestFraction),
                AbnormalFraction = args.GetDouble("abnormal", defaults.AbnormalFraction),
                SizeScale = (float)args.GetDouble("size-scale", defaults.SizeScale),
                UncompressedFraction = args.GetDouble("uncompressed", defaults.UncompressedFraction),
                Monochrome1Fraction = args.GetDouble("monochrome1", defaults.Monochrome1Fraction),
                Workers = args.GetInt("workers", 0),
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--{Option(e.ParamName)}: {e.Message.Split(" (Parameter")[0]}");
        }
        string? preview = args.Get("preview");

        SynthResult r;
        using (var progress = new ProgressReporter("synth", options.Studies))
            r = SyntheticDataset.Generate(outDir, options, progress);
        Console.WriteLine($"wrote {r.Images} images of {r.Studies} studies to {r.OutDir} in {r.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"  train {r.TrainImages} images, test {r.TestImages}; abnormal {r.AbnormalImages}, normal {r.Images - r.AbnormalImages}");
        Console.WriteLine("  boxes: " + string.Join(", ", LesionTaxonomy.Classes.Select((c, i) => $"{c} {r.BoxesPerClass[i]}")));

        if (preview != null)
        {
            var index = DatasetIndex.Load(outDir);
            var image = DatasetPreview.MostVaried(index.Get("train").Concat(index.Get("test")));
            if (image == null) Console.Error.WriteLine("spinexr: warning: no image with boxes for --preview");
            else
            {
                AtomicFile.WriteAllBytes(preview, DatasetPreview.Render(image, 1000));
                Console.WriteLine($"preview: {preview} ({image.ImageId}, {image.Boxes.Count} boxes)");
            }
        }
        return ExitCodes.Ok;
    }

    private static string Option(string? param) => param switch
    {
        nameof(SynthOptions.Studies) => "studies",
        nameof(SynthOptions.TestFraction) => "test-fraction",
        nameof(SynthOptions.AbnormalFraction) => "abnormal",
        nameof(SynthOptions.SizeScale) => "size-scale",
        nameof(SynthOptions.UncompressedFraction) => "uncompressed",
        nameof(SynthOptions.Monochrome1Fraction) => "monochrome1",
        nameof(SynthOptions.Workers) => "workers",
        _ => param ?? "?",
    };
}
