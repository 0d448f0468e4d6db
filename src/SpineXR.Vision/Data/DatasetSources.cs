// Detector data from a VinDr-SpineXR-layout dataset: the data layer's index (boxes of the seven classes, clipped,
// zero-area dropped) and its cached image loader (reference 8-bit conversion, shortest-edge resize).
using SpineXR.Data;
using SpineXR.Imaging;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Data;

/// <summary>Images of a dataset split, loaded through <see cref="ImageLoader"/>.</summary>
public sealed class DatasetDetectionSource : IDetectionDataSource
{
    private readonly IReadOnlyList<DatasetImage> _images;
    private readonly string _root;
    private readonly int _maxSize;
    private readonly Dictionary<int, ImageLoader> _loaders = [];

    public IReadOnlyList<DetectionSample> Samples { get; }

    public DatasetDetectionSource(string root, IReadOnlyList<DatasetImage> images, int maxSize)
    {
        _root = root;
        _images = images;
        _maxSize = maxSize;
        Samples = images.Select(i => new DetectionSample(i.ImageId, i.StudyId, i.Boxes.Select(b => b.Box).ToArray(), i.Boxes.Select(b => b.ClassId).ToArray())).ToList();
    }

    public GrayImageF Load(int index, int maxShortSide)
    {
        ImageLoader loader;
        lock (_loaders)
        {
            if (!_loaders.TryGetValue(maxShortSide, out loader!))
            {
                var opts = new ImageLoadOptions { Size = maxShortSide, MaxSize = Math.Max(_maxSize, maxShortSide), Mode = ResizeMode.ShortSide, Bits = 8 };
                _loaders[maxShortSide] = loader = new ImageLoader(opts, ImageLoader.DefaultCacheDirectory(_root));
            }
        }
        GrayImage g;
        try
        {
            g = loader.Load(_images[index].Path);
        }
        catch (Exception e) when (e is Dicom.DicomException)
        {
            throw new InvalidDataException($"{_images[index].Path}: {e.Message}", e);
        }
        var f = new float[g.Pixels.Length];
        for (int i = 0; i < f.Length; i++) f[i] = g.Pixels[i] * (1f / 255f);
        return new GrayImageF(f, g.Width, g.Height, g.ScaleX);
    }
}

/// <summary>Opens the train (minus a validation part by study) and test splits of a dataset.</summary>
public static class DatasetSources
{
    public static (IDetectionDataSource Train, IDetectionDataSource Val, IDetectionDataSource? Test) Open(string root, DetectorTrainConfig c)
    {
        var index = DatasetIndex.Load(root);
        var all = index.Get("train");
        if (all.Count == 0) throw new InvalidDataException($"{root}: no train images (annotations/train.csv)");
        var (train, val) = DatasetIndex.SplitByStudy(all, c.Input.ValFraction, (int)c.Solver.Seed);
        var test = index.Get("test");
        int maxSize = c.Model.MaxSize;
        return (new DatasetDetectionSource(root, train, maxSize), new DatasetDetectionSource(root, val, maxSize),
            test.Count > 0 ? new DatasetDetectionSource(root, test, maxSize) : null);
    }
}
