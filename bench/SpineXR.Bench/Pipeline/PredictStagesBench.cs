// Where predict's CPU goes outside the models: each per-image stage timed on one thread over the same files, so the
// end-to-end vs models-only gap of the `predict` benchmark can be attributed.
using System.Diagnostics;
using System.Text.Json;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SkiaSharp;
using SpineXR.Imaging;
using SpineXR.Inference;
using SpineXR.Reports;

namespace SpineXR.Bench.Pipeline;

public sealed class PredictStagesBench : IBench
{
    public string Name => "predict-stages";
    public string Summary => "ms per image of each non-model stage of predict (read, decode, 8-bit, overlay, thumbnail, JSON), one thread";

    public int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: predict-stages DICOM_FOLDER [--n 38] [--rounds 3] [--reduce R]   (R: the wavelet halvings predict decodes at; 1 for the cpu presets on ~1,000-px images, 2 on VinDr-sized ones)");
            return 2;
        }
        int n = 38, rounds = 3, reduce = 0;
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--n") n = int.Parse(args[i + 1]);
            if (args[i] == "--rounds") rounds = int.Parse(args[i + 1]);
            if (args[i] == "--reduce") reduce = int.Parse(args[i + 1]);
        }
        var files = InputFiles.Expand([args[0]], []).Take(n).ToList();
        // Stages after the decode run on the image predict would have: reduced by `reduce` halvings where the codec can,
        // drawn (like predict's default overlay) at that size, at most 1024 px.
        string[] names = ["read + parse", "(not in predict when reduced) decode at full size", $"decode at {reduce} halving(s) (JPEG 2000; others full size)",
            "VOI + min-max to 8 bits", "overlay drawing (decoded size, <= 1024 px)", "overlay PNG encoding", "thumbnail JPEG (320 px)", "item JSON",
            "(not in predict) overlay PNG by Skia, Sub filter + zlib 1"];
        bool[] inPredict = [true, reduce == 0, reduce > 0, true, true, true, true, true, false];
        int reducedFiles = 0;
        long overlayPixels = 0;
        var best = Enumerable.Repeat(double.MaxValue, names.Length).ToArray();
        var box = new PredictedBox("Osteophytes", 0, 0.9f, [100, 100, 300, 260]);
        for (int round = 0; round <= rounds; round++)
        {
            var total = new double[names.Length];
            foreach (var f in files)
            {
                var sw = Stopwatch.StartNew();
                var file = DicomFile.Open(f);
                total[0] += Lap(sw);
                var frame = PixelDecoder.DecodeGray(file);
                total[1] += Lap(sw);
                if (reduce > 0)
                {
                    frame = PixelDecoder.DecodeGray(DicomPixelData.Create(file), 0, reduce);
                    if (round == 0 && frame.Reduction > 0) reducedFiles++;
                }
                total[2] += Lap(sw);
                byte[] gray = GrayscaleRenderer.ToGray8(frame, file.Dataset);
                total[3] += Lap(sw);
                int shift = reduce - frame.Reduction; // halvings the codec could not do (e.g. uncompressed): the overlay does them
                int side = Math.Min(1024, (Math.Max(frame.Columns, frame.Rows) + (1 << shift) - 1) >> shift);
                var (rgb, w, h) = OverlayRenderer.RenderRgb(gray, frame.Columns, frame.Rows, [box], "abnormal 0.91", true, side);
                if (round == 0) overlayPixels += (long)w * h;
                total[4] += Lap(sw);
                PngWriter.WriteRgb8(Stream.Null, w, h, rgb);
                total[5] += Lap(sw);
                OverlayRenderer.RenderJpeg(gray, frame.Columns, frame.Rows, [box], null, true, 320);
                total[6] += Lap(sw);
                JsonSerializer.SerializeToUtf8Bytes(new { file = f, boxes = new[] { box } });
                total[7] += Lap(sw);
                using (var bitmap = Rgba(rgb, w, h))
                using (var pixmap = bitmap.PeekPixels())
                {
                    sw.Restart();
                    using var data = pixmap.Encode(SkiaFastPng);
                    total[8] += Lap(sw);
                }
            }
            if (round == 0) continue; // warm-up
            for (int k = 0; k < names.Length; k++) best[k] = Math.Min(best[k], total[k] / files.Count);
        }
        Console.WriteLine($"overlays average {Math.Sqrt(overlayPixels / (double)files.Count):F0} px on a side (square-equivalent)");
        Console.WriteLine($"{files.Count} files from {args[0]}, best of {rounds} rounds, one thread; {reducedFiles} decoded reduced");
        Console.WriteLine("| stage | ms per image |");
        Console.WriteLine("|---|---|");
        for (int k = 0; k < names.Length; k++) Console.WriteLine($"| {names[k]} | {best[k]:F1} |");
        Console.WriteLine($"| total in predict | {best.Where((_, k) => inPredict[k]).Sum():F1} |");
        return 0;
    }

    private static readonly SKPngEncoderOptions SkiaFastPng = new(SKPngEncoderFilterFlags.Sub, 1);

    private static SKBitmap Rgba(byte[] rgb, int w, int h)
    {
        var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var px = bitmap.GetPixelSpan();
        for (int i = 0; i < w * h; i++)
        {
            px[4 * i] = rgb[3 * i];
            px[4 * i + 1] = rgb[3 * i + 1];
            px[4 * i + 2] = rgb[3 * i + 2];
            px[4 * i + 3] = 255;
        }
        return bitmap;
    }

    private static double Lap(Stopwatch sw)
    {
        double ms = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        return ms;
    }
}
