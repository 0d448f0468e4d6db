// In-memory synthetic spine radiographs (the data layer's generator) as a detector data source: same scenes and
// split as `spinexr data synth` with the same seed, rendered on demand, windowed to [0, 1] without DICOM encoding.
using SpineXR.Synthesis;

namespace SpineXR.Vision.Data;

/// <summary>
/// Synthetic images of one split, rendered when first loaded and kept in a disk cache (float32, exact), so training
/// streams them like a written dataset's images instead of rendering each again every epoch or holding all in memory.
/// </summary>
public sealed class SyntheticDetectionSource : IDetectionDataSource
{
    private readonly List<SynthImage> _images;
    private readonly string _cacheDir;

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
        // one folder per generator configuration: the same options always render the same pixels
        string key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(options.ToString())))[..16];
        _cacheDir = Path.Combine(CacheRoot, key.ToLowerInvariant());
    }

    /// <summary>Where rendered images are cached: SPINEXR_SYNTH_CACHE, else the temp folder's spinexr-synthetic.</summary>
    public static string CacheRoot => Environment.GetEnvironmentVariable("SPINEXR_SYNTH_CACHE") is { Length: > 0 } d ? d : Path.Combine(Path.GetTempPath(), "spinexr-synthetic");

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
        string path = Path.Combine(_cacheDir, $"{_images[index].ImageId}-{maxShortSide}.f32");
        if (TryRead(path) is { } cached) return cached;
        var image = Render(index, maxShortSide);
        try
        {
            Directory.CreateDirectory(_cacheDir);
            SpineXR.IO.AtomicFile.Write(path, s =>
            {
                using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
                w.Write(image.Width); w.Write(image.Height); w.Write(image.Scale);
                w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(image.Pixels.AsSpan()));
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a cache that cannot be written only costs speed
        return image;
    }

    private static GrayImageF? TryRead(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            using var r = new BinaryReader(s);
            int w = r.ReadInt32(), h = r.ReadInt32();
            float scale = r.ReadSingle();
            if (w <= 0 || h <= 0 || s.Length != 12 + 4L * w * h) return null;
            var px = new float[w * h];
            s.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(px.AsSpan()));
            return new GrayImageF(px, w, h, scale);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private GrayImageF Render(int index, int maxShortSide)
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
