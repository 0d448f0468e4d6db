using System.Globalization;
using SpineXR.Boxes;
using SpineXR.Data;
using SpineXR.Diagnostics;

namespace SpineXR.Synthesis;

/// <summary>Header facts of one synthetic image (the rest of the DICOM header derives from the ids).</summary>
public sealed record SynthHeader(string Modality, string Photometric, bool Jpeg2000, string PatientSex, int PatientAge, double PixelSpacing, string StudyDate, string RadId);

/// <summary>One planned synthetic image: where it goes, its ids, its scene (with lesions) and header.</summary>
public sealed record SynthImage(
    int Study, int Index, string Split, string StudyId, string SeriesId, string ImageId, string PatientId, SpineScene Scene, SynthHeader Header)
{
    public bool IsAbnormal => Scene.Lesions.Count > 0;

    /// <summary>Relative path of the DICOM file in the dataset.</summary>
    public string RelativePath => Path.Combine(Split + "_images", ImageId + ".dicom");

    /// <summary>The annotation rows: one per lesion, or one <c>No finding</c> row without a box.</summary>
    public IEnumerable<AnnotationRow> Rows() => Scene.Lesions.Count == 0
        ? [new AnnotationRow(StudyId, SeriesId, ImageId, Header.RadId, LesionTaxonomy.NoFinding, null)]
        : Scene.Lesions.Select(l => new AnnotationRow(StudyId, SeriesId, ImageId, Header.RadId, LesionTaxonomy.Classes[l.ClassId], Round(l.Box)));

    private static BoxF Round(BoxF b) => new(MathF.Round(b.X1, 2), MathF.Round(b.Y1, 2), MathF.Round(b.X2, 2), MathF.Round(b.Y2, 2));
}

/// <summary>Stored pixels of a synthetic image as written: photometric applied, with the VOI window of the header.</summary>
public sealed record SynthPixels(ushort[] Stored, int Width, int Height, double WindowCenter, double WindowWidth);

/// <summary>What <see cref="SyntheticDataset.Generate"/> wrote.</summary>
public sealed record SynthResult(string OutDir, int Studies, int Images, int AbnormalImages, int[] BoxesPerClass, int TrainImages, int TestImages, TimeSpan Elapsed);

/// <summary>
/// The synthetic VinDr-SpineXR-style dataset: plans studies (region, views, patient, lesions) deterministically
/// from the seed and the study index, renders them in parallel and writes <c>annotations/{train,test}.csv</c> and
/// <c>{train,test}_images/&lt;image_id&gt;.dicom</c>. Each study draws from its own seeded generator, so the output
/// does not depend on the number of workers.
/// </summary>
public static class SyntheticDataset
{
    private static readonly string[] Dates = ["20190114", "20190322", "20190607", "20190819", "20191105", "20200113", "20200309", "20200525", "20200817", "20201030"];

    /// <summary>Study indices of the test split: the round(fraction x N) studies ranked lowest by a seeded hash.</summary>
    public static HashSet<int> TestStudies(SynthOptions o)
    {
        int n = (int)Math.Round(o.TestFraction * o.Studies, MidpointRounding.AwayFromZero);
        return Enumerable.Range(0, o.Studies).OrderBy(s => StableHash.Of(o.Seed, "split/" + s.ToString(CultureInfo.InvariantCulture))).Take(n).ToHashSet();
    }

    /// <summary>Plans the images of one study (scenes include their lesions); deterministic in (seed, study).</summary>
    public static IReadOnlyList<SynthImage> PlanStudy(SynthOptions o, int study, bool isTest)
    {
        var rng = SynthRandom.For(o.Seed, "study", study);
        var region = rng.Chance(o.CervicalFraction) ? SpineRegion.Cervical : SpineRegion.Lumbar;
        int nViews = 1 + rng.Pick([0.2, 0.65, 0.15]);
        var views = nViews switch
        {
            1 => new List<SpineView> { rng.Chance(0.5) ? SpineView.AP : SpineView.Lateral },
            2 => [SpineView.AP, SpineView.Lateral],
            _ => [SpineView.AP, SpineView.Lateral, SpineView.Lateral],
        };
        string sex = rng.Chance(0.55) ? "F" : "M";
        int age = rng.Int(18, 86);
        string modality = rng.Chance(0.4) ? "CR" : "DX";
        double spacing = Math.Round(region == SpineRegion.Lumbar ? rng.Range(0.3, 0.36) : rng.Range(0.22, 0.28), 3) / o.SizeScale;
        string date = Dates[rng.Int(0, Dates.Length)];
        string rad = "rad" + rng.Int(1, 9).ToString(CultureInfo.InvariantCulture);

        // Every third study carries a chosen class, cycling through all seven, so small datasets still have each class.
        int forced = study % 3 == 0 ? study / 3 % 7 : -1;
        bool implant = forced == LesionPlanner.SurgicalImplant || rng.Chance(o.ImplantFraction);
        if (forced == LesionPlanner.ForaminalStenosis && !views.Contains(SpineView.Lateral)) views[0] = SpineView.Lateral;
        int forcedView = forced < 0 || forced == LesionPlanner.SurgicalImplant ? -1
            : forced == LesionPlanner.ForaminalStenosis ? views.IndexOf(SpineView.Lateral) : rng.Int(0, views.Count);
        string[] implantLevels = region == SpineRegion.Lumbar
            ? rng.Pick<string[]>([["L3", "L4", "L5"], ["L4", "L5"], ["L2", "L3", "L4"], ["L1", "L2"]])
            : rng.Pick<string[]>([["C4", "C5", "C6"], ["C5", "C6"], ["C5", "C6", "C7"], ["C3", "C4", "C5"]]);

        string studyId = SynthIds.Hex(o.Seed, "study", study);
        string patientId = SynthIds.Hex(o.Seed, "patient", study);
        var images = new List<SynthImage>(views.Count);
        for (int j = 0; j < views.Count; j++)
        {
            long key = (long)study * 8 + j;
            var irng = SynthRandom.For(o.Seed, "image", key);
            var scene = SceneBuilder.Build(irng, region, views[j], o.SizeScale);
            var occ = new LesionPlanner.Occupancy();
            if (implant) LesionPlanner.AddImplant(scene, implantLevels, occ);
            if (j == forcedView) LesionPlanner.AddEvent(scene, irng, forced, occ);
            if (irng.Chance(o.AbnormalFraction) || j == forcedView)
            {
                int events = 1 + (irng.Chance(0.45) ? 1 : 0) + (irng.Chance(0.2) ? 1 : 0);
                for (int e = 0; e < events; e++)
                {
                    int cls = irng.Pick(LesionPlanner.EventWeights);
                    if (cls == LesionPlanner.SurgicalImplant) cls = LesionPlanner.Osteophytes; // implants are per study
                    LesionPlanner.AddEvent(scene, irng, cls, occ);
                }
                for (int t = 0; t < 8 && scene.Lesions.Count == 0; t++) LesionPlanner.AddEvent(scene, irng, LesionPlanner.Osteophytes, occ);
            }
            string photometric = irng.Chance(o.Monochrome1Fraction) ? "MONOCHROME1" : "MONOCHROME2";
            bool j2k = !irng.Chance(o.UncompressedFraction);
            images.Add(new SynthImage(study, j, isTest ? "test" : "train", studyId, SynthIds.Hex(o.Seed, "series", key),
                SynthIds.Hex(o.Seed, "image", key), patientId, scene,
                new SynthHeader(modality, photometric, j2k, sex, age, spacing, date, rad)));
        }
        return images;
    }

    /// <summary>Renders an image and applies its photometric interpretation; the window covers the 1st-99th percentile of stored values.</summary>
    public static SynthPixels Render(SynthImage image)
    {
        var px = SpineRenderer.Render(image.Scene);
        var hist = new int[SpineRenderer.MaxValue + 1];
        foreach (ushort v in px) hist[v]++;
        int lo = Percentile(hist, px.Length, 0.01), hi = Percentile(hist, px.Length, 0.99);
        double center = (lo + hi) / 2.0, width = Math.Max(16, (hi - lo) * 1.05);
        if (image.Header.Photometric == "MONOCHROME1")
        {
            for (int i = 0; i < px.Length; i++) px[i] = (ushort)(SpineRenderer.MaxValue - px[i]);
            center = SpineRenderer.MaxValue - center;
        }
        return new SynthPixels(px, image.Scene.Width, image.Scene.Height, Math.Round(center), Math.Round(width));
    }

    private static int Percentile(int[] hist, int total, double q)
    {
        long target = (long)(q * total), acc = 0;
        for (int v = 0; v < hist.Length; v++)
        {
            acc += hist[v];
            if (acc > target) return v;
        }
        return hist.Length - 1;
    }

    /// <summary>
    /// Writes the dataset to <paramref name="outDir"/>: plans every study, renders and writes the images in parallel
    /// (each file atomically), then the two annotation files. Existing files of the same names are replaced.
    /// </summary>
    public static SynthResult Generate(string outDir, SynthOptions options, ProgressReporter? progress = null)
    {
        options.Validate();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var test = TestStudies(options);
        foreach (var split in new[] { "train", "test" }) Directory.CreateDirectory(Path.Combine(outDir, split + "_images"));
        Directory.CreateDirectory(Path.Combine(outDir, "annotations"));
        var perStudy = new IReadOnlyList<SynthImage>[options.Studies];
        int workers = options.Workers > 0 ? options.Workers : Environment.ProcessorCount;
        Parallel.For(0, options.Studies, new ParallelOptions { MaxDegreeOfParallelism = workers }, s =>
        {
            var images = PlanStudy(options, s, test.Contains(s));
            foreach (var im in images)
            {
                var pixels = Render(im);
                SynthDicom.Write(Path.Combine(outDir, im.RelativePath), im, pixels);
            }
            perStudy[s] = images;
            progress?.Advance();
        });
        var all = perStudy.SelectMany(x => x).ToList();
        AnnotationFile.Write(Path.Combine(outDir, "annotations", "train.csv"), all.Where(i => i.Split == "train").SelectMany(i => i.Rows()));
        AnnotationFile.Write(Path.Combine(outDir, "annotations", "test.csv"), all.Where(i => i.Split == "test").SelectMany(i => i.Rows()));
        var perClass = new int[LesionTaxonomy.Classes.Count];
        foreach (var l in all.SelectMany(i => i.Scene.Lesions)) perClass[l.ClassId]++;
        return new SynthResult(Path.GetFullPath(outDir), options.Studies, all.Count, all.Count(i => i.IsAbnormal), perClass,
            all.Count(i => i.Split == "train"), all.Count(i => i.Split == "test"), clock.Elapsed);
    }
}
