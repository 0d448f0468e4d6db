// JPEG 2000 lossless decode time on a VinDr-like radiograph (2500 x 2000, 12 bits stored) made with SpineXR's own
// encoder: our OpenJPEG binding (1 and 2 threads) against pydicom + GDCM (tools/codec_reference_bench.py) on the same
// file in the same run; the reference also checks that the encoder's file decodes exactly in pydicom + GDCM.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Imaging;

namespace SpineXR.Bench.Codecs;

/// <summary>`codecs-j2k [REPEAT]`: median decode ms of a 2500x2000 12-bit J2K lossless frame, ours vs pydicom + GDCM.</summary>
public sealed class Jpeg2000Bench : IBench
{
    public string Name => "codecs-j2k";
    public string Summary => "JPEG 2000 lossless decode ms (2500x2000, 12-bit) vs pydicom+GDCM; encoder round trip";


    public int Run(string[] args)
    {
        int repeat = args.Length > 0 && int.TryParse(args[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 7;
        string root = Path.Combine(Path.GetTempPath(), "spinexr-bench-codecs");
        Directory.CreateDirectory(root);
        var pixels = CodecBenchSupport.RadiographLike();
        var format = new PixelFormat(CodecBenchSupport.Rows, CodecBenchSupport.Columns, 1, 16, 12, 0, "MONOCHROME2");
        byte[] native = MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray();

        var clock = Stopwatch.StartNew();
        byte[] j2k = Jpeg2000Encoder.EncodeLossless(native, format);
        double encodeMs = clock.Elapsed.TotalMilliseconds;
        string dicomPath = Path.Combine(root, "vindr_like_j2k.dicom"), rawPath = Path.Combine(root, "vindr_like.u16");
        var header = new GrayscaleImageHeader { Rows = CodecBenchSupport.Rows, Columns = CodecBenchSupport.Columns, BitsStored = 12, UidSeed = "codecs-bench" };
        DicomImageWriter.Save(dicomPath, header, pixels, new Jpeg2000Encoder());
        File.WriteAllBytes(rawPath, native);

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; one {CodecBenchSupport.Rows}x{CodecBenchSupport.Columns} 12-bit frame, JPEG 2000 lossless " +
                          $"({j2k.Length / 1024} KiB, {native.Length / (double)j2k.Length:F2}:1), OpenJPEG {NativeCodecs.OpenJpegVersion()}");
        Console.WriteLine($"encode (ours, 1 thread): {encodeMs:F0} ms");
        Console.WriteLine();
        Console.WriteLine("| decoder | threads | median decode ms | vs pydicom+GDCM |");
        Console.WriteLine("|---|---|---|---|");
        var (gdcmMs, gdcmReadMs, equal) = CodecBenchSupport.Reference(dicomPath, rawPath, repeat);
        Console.WriteLine($"| pydicom 2.3 + GDCM 3.0 (`ds.pixel_array`) | 1 | {gdcmMs:F0} | 1.00x |");
        foreach (int threads in new[] { 1, 2 })
        {
            var codec = new Jpeg2000Codec();
            var options = new DecodeOptions { Jpeg2000Threads = threads };
            double ms = CodecBenchSupport.Median(repeat, () =>
            {
                var frame = codec.Decode(j2k, format, Jpeg2000Codec.Lossless, options);
                if (!frame.Data.AsSpan().SequenceEqual(native)) throw new InvalidOperationException("decode differs from the encoder's input");
            });
            Console.WriteLine($"| spinexr `Jpeg2000Codec` | {threads} | {ms:F0} | {gdcmMs / ms:F2}x |");
        }
        double fileMs = CodecBenchSupport.Median(repeat, () => PixelDecoder.DecodeGray(DicomFile.Open(dicomPath)));
        Console.WriteLine($"| spinexr read file + decode to stored values | 1 | {fileMs:F0} | {(gdcmMs + gdcmReadMs) / fileMs:F2}x (vs dcmread + pixel_array) |");
        Console.WriteLine();
        Console.WriteLine($"encoder output decoded by pydicom + GDCM equals the input: {equal}");
        return equal == true ? 0 : 1;
    }
}
