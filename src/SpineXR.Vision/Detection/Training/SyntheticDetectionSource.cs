// In-memory synthetic spine radiographs (the data layer's generator) as a detector data source: same scenes and
// split as `spinexr data synth` with the same seed, rendered on demand, windowed to [0, 1] without DICOM encoding.
using SpineXR.Synthesis;

namespace SpineXR.Vision.Detection.Training;

/// <summary>Synthetic images of one split, rendered when loaded.</summary>
public sealed class SyntheticDetectionSource : IDetectionDataSource
{
    private readonly List<SynthImage> _images;

    public IReadOnlyList<DetectionSample> Samples { get; }

    /// <summary>Plans the studies of <paramref name="options"/> and keeps the images of <paramref name="split"/> ("train" or "test"), optionally only some studies.</summary>
    public SyntheticDetectionSource(SynthOptions options, string split, Func<int, bool>? studyFilter = null)
    {
        var test = SyntheticDataset.TestStudies(options);
        _images = Enumerable.Range(0, options.Studies)
            .Where(s => test.Contains(s) == (split == "test") && (studyFilter?.Invoke(s) ?? true))
            .SelectMany(s => SyntheticDataset.PlanStudy(options, s, test.Contains(s)))
            .ToList();
        Samples = _images.Select(i => new DetectionSample(i.ImageId, i.StudyId,
            i.Scene.Lesions.Select(l => l.Box).ToArray(), i.Scene.Lesions.Select(l => l.ClassId).ToArray())).ToList();
    }

    /// <summary>The train split's studies divided by <see cref="SpineXR.Data.StudySplit"/> on their study ids, as a written copy of the dataset would be.</summary>
    public static (SyntheticDetectionSource Train, SyntheticDetectionSource Validation) TrainAndValidation(SynthOptions options, double valFraction, int seed)
    {
        var test = SyntheticDataset.TestStudies(options);
        var trainStudies = Enumerable.Range(0, options.Studies).Where(s => !test.Contains(s)).ToList();
        var val = SpineXR.Data.StudySplit.Split(trainStudies, s => SynthIds.Hex(options.Seed, "study", s), valFraction, seed).Validation.ToHashSet();
        return (new SyntheticDetectionSource(options, "train", s => !val.Contains(s)), new SyntheticDetectionSource(options, "train", val.Contains));
    }

    public GrayImageF Load(int index, int maxShortSide)
    {
        var px = SyntheticDataset.Render(_images[index]);
        bool invert = _images[index].Header.Photometric == "MONOCHROME1";
        float lo = (float)(px.WindowCenter - px.WindowWidth / 2), inv = 1f / (float)px.WindowWidth;
        var f = new float[px.Stored.Length];
        for (int i = 0; i < f.Length; i++)
        {
            float v = Math.Clamp((px.Stored[i] - lo) * inv, 0f, 1f);
            f[i] = invert ? 1f - v : v;
        }
        return ImageResize.ToShortSide(new GrayImageF(f, px.Width, px.Height), maxShortSide);
    }
}
