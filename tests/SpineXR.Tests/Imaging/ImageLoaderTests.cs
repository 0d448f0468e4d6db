using System.Diagnostics;
using SpineXR.Boxes;
using SpineXR.Data;
using SpineXR.Imaging;
using SpineXR.Synthesis;
using SpineXR.Tests.Data;

namespace SpineXR.Tests.Imaging;

public class ImageLoaderTests(SmallDataset data) : IClassFixture<SmallDataset>
{
    private IReadOnlyList<DatasetImage> Images => DatasetIndex.Load(data.Root).Get("train");

    [Fact]
    public void CachedLoadEqualsDecodeAndAChangedFileIsDecodedAgain()
    {
        using var dir = new TempDir();
        string root = data.CopyTo(dir);
        var im = DatasetIndex.Load(root).Get("train")[0];
        var options = new ImageLoadOptions { Size = 128, Mode = ResizeMode.Letterbox };
        var loader = new ImageLoader(options, dir["cache"]);
        var first = loader.Load(im.Path);
        var second = loader.Load(im.Path);
        Assert.Equal((1L, 1L), (loader.CacheHits, loader.CacheMisses));
        Assert.Equal(first.Pixels, second.Pixels);
        Assert.Equal(first with { Pixels = second.Pixels }, second);
        Assert.Equal(ImageLoader.Decode(im.Path, options).Pixels, second.Pixels);
        Assert.Single(Directory.EnumerateFiles(dir["cache"], "*.sxi", SearchOption.AllDirectories));

        File.SetLastWriteTimeUtc(im.Path, DateTime.UtcNow.AddMinutes(1));
        loader.Load(im.Path);
        Assert.Equal(2, loader.CacheMisses);
        new ImageLoader(options with { Size = 96 }, dir["cache"]).Load(im.Path);
        Assert.Equal(3, Directory.EnumerateFiles(dir["cache"], "*.sxi", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public void ScaleFactorsMapBoxesOntoTheResizedImage()
    {
        var im = Images.First(i => i.Boxes.Count > 0);
        var g = ImageLoader.Decode(im.Path, new ImageLoadOptions { Size = 200, Mode = ResizeMode.Letterbox });
        Assert.Equal((200, 200), (g.Width, g.Height));
        Assert.Equal((im.Width, im.Height), (g.OriginalWidth, g.OriginalHeight));
        Assert.Equal(g.ScaleX, g.ScaleY, 2);
        var b = g.ToImage(new BoxF(0, 0, im.Width, im.Height));
        Assert.True(Math.Max(b.X2, b.Y2) is > 199 and <= 200.01f);
        Assert.Equal(im.Boxes[0].Box.X2, g.ToOriginal(g.ToImage(im.Boxes[0].Box)).X2, 3);
        var g16 = ImageLoader.Decode(im.Path, new ImageLoadOptions { Size = 64, Bits = 16 });
        Assert.Equal(64 * 64, g16.Pixels16.Length);
    }

    [Fact]
    public void PrefetchKeepsOrderReportsFailuresAndStopsCleanly()
    {
        var paths = Images.Select(i => i.Path).ToList();
        paths.Insert(1, "/nonexistent/file.dicom");
        var loader = new ImageLoader(new ImageLoadOptions { Size = 64 }, null);
        var results = loader.Prefetch(paths, p => p, workers: 2, capacity: 2).ToList();
        Assert.Equal(paths, results.Select(r => r.Item));
        Assert.NotNull(results[1].Error);
        Assert.Null(results[1].Image);
        Assert.All(results.Where((_, i) => i != 1), r => Assert.Equal(64, r.Image!.Width));
        var firstTwo = loader.Prefetch(paths, p => p, workers: 2).Take(1).ToList();
        Assert.Single(firstTwo);
    }

    [Fact]
    public void LoadingACachedImageIsAtLeast20TimesFasterThanDecodingItsJpeg2000File()
    {
        using var dir = new TempDir();
        var o = new SynthOptions { Studies = 1, Seed = 4, UncompressedFraction = 0 };
        var plan = SyntheticDataset.PlanStudy(o, 0, false)[0];
        string path = dir["x.dicom"];
        SynthDicom.Write(path, plan, SyntheticDataset.Render(plan));
        var options = new ImageLoadOptions { Size = 512 };
        var loader = new ImageLoader(options, dir["cache"]);
        loader.Load(path);
        double decode = Fastest(3, () => ImageLoader.Decode(path, options));
        double cached = Fastest(10, () => loader.Load(path));
        Assert.True(decode / cached >= 20, $"decode {decode:F2} ms, cached {cached:F3} ms: only {decode / cached:F1}x");
    }

    private static double Fastest(int runs, Action a)
    {
        double best = double.MaxValue;
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            a();
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
        }
        return best;
    }
}
