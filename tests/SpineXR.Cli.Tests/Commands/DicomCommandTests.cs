using SpineXR.Cli.Commands;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SpineXR.Imaging;

namespace SpineXR.Cli.Tests.Commands;

public sealed class DicomCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-dicom-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public DicomCommandTests() => Directory.CreateDirectory(Path.Combine(_dir, "in", "sub"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string In(string name) => Path.Combine(_dir, "in", name);

    private static ushort[] Pixels(int rows, int cols, int seed)
    {
        var r = new Random(seed);
        var px = new ushort[rows * cols];
        for (int i = 0; i < px.Length; i++) px[i] = (ushort)((i % cols) * 4000 / cols + r.Next(90));
        return px;
    }

    private string WriteGood(string name, string photometric = "MONOCHROME2", double? center = null)
    {
        string path = In(name);
        DicomImageWriter.Save(path, new GrayscaleImageHeader
        {
            Rows = 30, Columns = 20, Photometric = photometric, UidSeed = name, PatientId = "P-" + name, PatientSex = "M",
            PatientAge = "050Y", BodyPartExamined = "SPINE", PixelSpacing = [0.2, 0.2],
            WindowCenter = center, WindowWidth = center.HasValue ? 1000 : null,
        }, Pixels(30, 20, name.Length));
        return path;
    }

    private void WriteBad()
    {
        var good = File.ReadAllBytes(WriteGood("tmp.dcm"));
        File.Delete(In("tmp.dcm"));
        File.WriteAllBytes(In("truncated.dcm"), good[..(good.Length - 100)]);
        var noise = new byte[3000];
        new Random(1).NextBytes(noise);
        File.WriteAllBytes(In(Path.Combine("sub", "noise.dcm")), noise);
        File.WriteAllText(In("notes.txt"), "not a dicom file, and not picked up from folders");
    }

    [Fact]
    public void Info_writes_the_contract_columns_and_reports_bad_files()
    {
        string a = WriteGood("a.dcm"), b = WriteGood(Path.Combine("sub", "b.dicom"), "MONOCHROME1", 1500);
        WriteBad();
        string csv = Path.Combine(_dir, "meta.csv");
        int code = Program.Run(["dicom", "info", Path.Combine(_dir, "in"), "--csv", csv]);
        Assert.Equal(ExitCodes.SomeFailed, code);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("file,image_id,study_id,series_id,patient_id,modality,body_part,patient_sex,patient_age,rows,columns,bits_allocated,bits_stored,pixel_representation,photometric,transfer_syntax,window_center,window_width,pixel_spacing,file_size", lines[0]);
        Assert.Equal(3, lines.Length);
        var rowA = lines.Single(l => l.StartsWith(a, StringComparison.Ordinal)).Split(',');
        Assert.Equal(DicomUid.FromSeed("a.dcm/sop"), rowA[1]);
        Assert.Equal(["P-a.dcm", "DX", "SPINE", "M", "050Y", "30", "20", "16", "12", "0", "MONOCHROME2", "1.2.840.10008.1.2.1", "", "", "0.2\\0.2"], rowA[4..19]);
        Assert.Equal(new FileInfo(a).Length.ToString(System.Globalization.CultureInfo.InvariantCulture), rowA[19]);
        var rowB = lines.Single(l => l.StartsWith(b, StringComparison.Ordinal)).Split(',');
        Assert.Equal(["MONOCHROME1", "1.2.840.10008.1.2.1", "1500", "1000"], rowB[14..18]);
    }

    [Fact]
    public void Convert_writes_reference_pngs_logs_failures_and_exits_1()
    {
        string a = WriteGood("a.dcm", center: 2000), b = WriteGood(Path.Combine("sub", "b.dcm"), "MONOCHROME1");
        WriteBad();
        string outDir = Path.Combine(_dir, "out");
        int code = Program.Run(["dicom", "convert", Path.Combine(_dir, "in"), "--out", outDir, "--workers", "2"]);
        Assert.Equal(ExitCodes.SomeFailed, code);

        Assert.Equal(["a.png", "b.png", "convert_log.csv"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var (src, png) in new[] { (a, "a.png"), (b, "b.png") })
        {
            var f = DicomFile.Open(src);
            var gray = GrayscaleRenderer.ToGray8(PixelDecoder.DecodeGray(f), f.Dataset);
            var expected = new MemoryStream();
            PngWriter.WriteGray8(expected, 20, 30, gray);
            Assert.Equal(expected.ToArray(), File.ReadAllBytes(Path.Combine(outDir, png)));
        }
        var log = File.ReadAllLines(Path.Combine(outDir, "convert_log.csv"));
        Assert.Equal("file,status,reason", log[0]);
        Assert.Equal(5, log.Length);
        Assert.Contains(log, l => l.StartsWith(In("truncated.dcm") + ",failed,\"truncated", StringComparison.Ordinal));
        Assert.Contains(log, l => l.StartsWith(In(Path.Combine("sub", "noise.dcm")) + ",failed,", StringComparison.Ordinal));
        Assert.Equal(2, log.Count(l => l.Contains(",ok,", StringComparison.Ordinal)));
    }

    [Fact]
    public void Convert_16_bit_and_all_good_exits_0()
    {
        WriteGood("a.dcm");
        string outDir = Path.Combine(_dir, "out16");
        Assert.Equal(ExitCodes.Ok, Program.Run(["dicom", "convert", In("a.dcm"), "--out", outDir, "--bits", "16", "--voi", "none"]));
        var png = File.ReadAllBytes(Path.Combine(outDir, "a.png"));
        Assert.Equal(16, png[24]); // IHDR bit depth
    }

    [Fact]
    public void Duplicate_stems_fail_instead_of_overwriting()
    {
        WriteGood("x.dcm");
        WriteGood(Path.Combine("sub", "x.dcm"));
        var rows = DicomConvertCommand.Convert([In("x.dcm"), In(Path.Combine("sub", "x.dcm"))], Path.Combine(_dir, "o"), 8, new RenderOptions(), 1, quiet: true);
        Assert.Equal("ok", rows[0].Status);
        Assert.Equal("failed", rows[1].Status);
        Assert.Contains("already taken", rows[1].Reason);
    }

    [Theory]
    [InlineData("--bits", "12")]
    [InlineData("--voi", "maybe")]
    [InlineData("--workers", "0")]
    public void Bad_options_are_usage_errors(string option, string value)
    {
        WriteGood("a.dcm");
        Assert.Throws<UsageException>(() => Program.Run(["dicom", "convert", In("a.dcm"), "--out", Path.Combine(_dir, "o"), option, value]));
    }

    [Fact]
    public void Missing_out_and_missing_input_are_usage_errors()
    {
        Assert.Throws<UsageException>(() => Program.Run(["dicom", "convert", In("a.dcm")]));
        Assert.Throws<UsageException>(() => Program.Run(["dicom", "info", In("does-not-exist.dcm")]));
    }
}
