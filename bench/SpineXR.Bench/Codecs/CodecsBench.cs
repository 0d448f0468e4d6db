// Decode time of every codec family on the same VinDr-like radiograph (2500 x 2000, 12 bits stored), compressed by
// dcmtk (RLE, JPEG lossless SV1, JPEG extended 12-bit, JPEG-LS lossless and near-lossless) and by our JPEG 2000 encoder,
// against pydicom + GDCM (pydicom's numpy decoder for RLE) on the same files in the same run.
using System.Globalization;
using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Imaging;

namespace SpineXR.Bench.Codecs;

/// <summary>`codecs [REPEAT]`: median decode ms per transfer syntax, ours (codec only) vs pydicom + GDCM.</summary>
public sealed class CodecsBench : IBench
{
    public string Name => "codecs";
    public string Summary => "decode ms per codec (RLE, JPEG lossless/extended, JPEG-LS, J2K) on 2500x2000 12-bit vs pydicom+GDCM";

    public int Run(string[] args)
    {
        int repeat = args.Length > 0 && int.TryParse(args[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 5;
        string root = Path.Combine(Path.GetTempPath(), "spinexr-bench-codecs");
        Directory.CreateDirectory(root);
        var pixels = CodecBenchSupport.RadiographLike();
        var header = new GrayscaleImageHeader
        {
            Rows = CodecBenchSupport.Rows, Columns = CodecBenchSupport.Columns, BitsStored = 12, UidSeed = "codecs-bench-all",
        };
        string plain = Path.Combine(root, "plain.dicom");
        DicomImageWriter.Save(plain, header, pixels);

        var kinds = new List<(string Name, string File)>();
        void Dcmtk(string name, string tool, params string[] options)
        {
            string path = Path.Combine(root, name + ".dicom");
            CodecBenchSupport.Tool(tool, [.. options, plain, path]);
            kinds.Add((name, path));
        }
        Dcmtk("RLE Lossless", "dcmcrle");
        Dcmtk("JPEG lossless SV1", "dcmcjpeg", "+e1");
        Dcmtk("JPEG extended 12-bit q90", "dcmcjpeg", "+ee", "+q", "90");
        Dcmtk("JPEG-LS lossless", "dcmcjpls", "+el");
        Dcmtk("JPEG-LS near-lossless NEAR=2", "dcmcjpls", "+en", "+md", "2");
        string j2k = Path.Combine(root, "j2k.dicom");
        DicomImageWriter.Save(j2k, header, pixels, new Jpeg2000Encoder());
        kinds.Add(("JPEG 2000 lossless", j2k));

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; one {CodecBenchSupport.Rows}x{CodecBenchSupport.Columns} 12-bit frame; median of {repeat}");
        Console.WriteLine();
        Console.WriteLine("| transfer syntax | compressed | pydicom+GDCM ms | spinexr ms | speed-up |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, file) in kinds)
        {
            var pixelData = DicomPixelData.Create(DicomFile.Open(file));
            byte[] frame = pixelData.GetRawFrame(0).ToArray();
            var codec = CodecRegistry.Find(pixelData.TransferSyntax.Uid) ?? throw new InvalidOperationException("no codec for " + name);
            double ours = CodecBenchSupport.Median(repeat, () => codec.Decode(frame, pixelData.Format, pixelData.TransferSyntax.Uid));
            var (reference, _, _) = CodecBenchSupport.Reference(file, null, repeat);
            Console.WriteLine($"| {name} | {frame.Length / 1024} KiB | {reference:F0} | {ours:F0} | {reference / ours:F2}x |");
        }
        return 0;
    }
}
