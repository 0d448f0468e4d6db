using System.IO.Compression;
using System.Text;

namespace SpineXR.Dicom.Tests;

public class DicomReaderTests
{
    private static RawDicom PatientModule(RawDicom r) => r
        .Text(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7")
        .Text(0x0008, 0x0018, "UI", "1.2.3.4")
        .Text(0x0008, 0x0060, "CS", "DX")
        .Text(0x0010, 0x0010, "PN", "Doe^John")
        .Text(0x0010, 0x1010, "AS", "045Y")
        .Text(0x0028, 0x1050, "DS", "2048\\1024 ")
        .US(0x0028, 0x0010, 2500);

    [Theory]
    [InlineData(true, true, "1.2.840.10008.1.2.1")]
    [InlineData(false, true, "1.2.840.10008.1.2")]
    [InlineData(true, false, "1.2.840.10008.1.2.2")]
    public void Reads_each_uncompressed_encoding_with_meta(bool @explicit, bool little, string ts)
    {
        var bytes = PatientModule(RawDicom.WithMeta(ts, @explicit, little)).ToArray();
        var f = DicomFile.Read(bytes);
        Assert.Equal(ts, f.TransferSyntax.Uid);
        Assert.True(f.HasPreamble);
        Assert.Equal("DX", f.Dataset.GetString(DicomTags.Modality));
        Assert.Equal("Doe^John", f.Dataset.GetString(DicomTags.PatientName));
        Assert.Equal(2500, f.Dataset.GetIntOrDefault(DicomTags.Rows, -1));
        Assert.Equal(DicomVR.US, f.Dataset.GetElement(DicomTags.Rows)!.VR);
        Assert.Equal([2048.0, 1024.0], f.Dataset.GetDoubles(DicomTags.WindowCenter));
        Assert.Equal(1024, f.Dataset.GetIntOrDefault(DicomTags.WindowCenter, 0, index: 1));
    }

    [Theory]
    [InlineData(true, true, "1.2.840.10008.1.2.1")]
    [InlineData(false, true, "1.2.840.10008.1.2")]
    [InlineData(true, false, "1.2.840.10008.1.2.2")]
    public void Guesses_the_encoding_of_a_bare_dataset_from_its_first_tag(bool @explicit, bool little, string ts)
    {
        var bytes = PatientModule(new RawDicom(@explicit, little)).ToArray();
        var f = DicomFile.Read(bytes);
        Assert.False(f.HasPreamble);
        Assert.Equal(ts, f.TransferSyntax.Uid);
        Assert.Equal(2500, f.Dataset.GetIntOrDefault(DicomTags.Rows, -1));
    }

    [Fact]
    public void Reads_deflated_explicit_little_endian()
    {
        var body = PatientModule(new RawDicom()).ToArray();
        var deflated = new MemoryStream();
        using (var z = new DeflateStream(deflated, CompressionLevel.Optimal, leaveOpen: true)) z.Write(body);
        var bytes = RawDicom.WithMeta(TransferSyntax.DeflatedExplicitVRLittleEndianUid).Bytes(deflated.ToArray()).ToArray();
        var f = DicomFile.Read(bytes);
        Assert.True(f.TransferSyntax.Deflated);
        Assert.Equal("045Y", f.Dataset.GetString(DicomTags.PatientAge));
    }

    [Fact]
    public void Corrupt_deflate_stream_is_a_dicom_exception()
    {
        var bytes = RawDicom.WithMeta(TransferSyntax.DeflatedExplicitVRLittleEndianUid).Bytes([1, 2, 3, 4, 5, 0xFF, 0xFF, 0xFF]).ToArray();
        Assert.Throws<DicomException>(() => DicomFile.Read(bytes));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Reads_nested_sequences_of_defined_and_undefined_length(bool @explicit, bool little)
    {
        // (0008,1140) undefined length { item undefined { (0008,1150) ; (0040,A730) defined length { item defined { (0008,0100) } } } }
        var inner = new RawDicom(@explicit, little).Text(0x0008, 0x0100, "SH", "CODE1").ToArray();
        var innerSeq = new RawDicom(@explicit, little).ItemStart((uint)inner.Length).Bytes(inner).ToArray();
        var r = new RawDicom(@explicit, little).Text(0x0008, 0x0060, "CS", "CR");
        r.Header(0x0008, 0x1140, "SQ", 0xFFFFFFFF).ItemStart()
            .Text(0x0008, 0x1150, "UI", "1.2.3")
            .Header(0x0040, 0xA730, "SQ", (uint)innerSeq.Length).Bytes(innerSeq)
            .ItemEnd()
            .ItemStart(0) // an empty item of defined length
            .SequenceEnd();
        r.Text(0x0010, 0x0040, "CS", "F");
        var f = DicomFile.Read(r.ToArray());
        var items = f.Dataset.GetSequence(new DicomTag(0x0008, 0x1140));
        Assert.Equal(2, items.Count);
        Assert.Equal("1.2.3", items[0].GetString(new DicomTag(0x0008, 0x1150)));
        Assert.Equal("CODE1", items[0].GetSequence(new DicomTag(0x0040, 0xA730))[0].GetString(new DicomTag(0x0008, 0x0100)));
        Assert.Equal(0, items[1].Count);
        Assert.Equal("F", f.Dataset.GetString(DicomTags.PatientSex));
    }

    private static byte[] Nested(int depth)
    {
        var r = new RawDicom().Text(0x0008, 0x0060, "CS", "CR");
        for (int i = 0; i < depth; i++) r.Header(0x0008, 0x1140, "SQ", 0xFFFFFFFF).ItemStart();
        r.Text(0x0008, 0x1150, "UI", "1.2");
        for (int i = 0; i < depth; i++) r.ItemEnd().SequenceEnd();
        return r.ToArray();
    }

    [Fact]
    public void Nesting_depth_is_bounded()
    {
        Assert.NotNull(DicomFile.Read(Nested(32)));
        var e = Assert.Throws<DicomException>(() => DicomFile.Read(Nested(33)));
        Assert.Contains("nested deeper", e.Message);
        Assert.Throws<DicomException>(() => DicomFile.Read(Nested(5000)));
    }

    [Fact]
    public void Undefined_length_UN_is_read_as_an_implicit_sequence()
    {
        var item = new RawDicom(@explicit: false).Text(0x0008, 0x0100, "SH", "X1").ToArray();
        var r = new RawDicom().Text(0x0008, 0x0060, "CS", "CR");
        r.Header(0x0009, 0x1010, "UN", 0xFFFFFFFF);
        var imp = new RawDicom(@explicit: false).ItemStart().Bytes(item).ItemEnd().SequenceEnd().ToArray();
        r.Bytes(imp);
        var f = DicomFile.Read(r.ToArray());
        Assert.Equal("X1", f.Dataset.GetSequence(new DicomTag(0x0009, 0x1010))[0].GetString(new DicomTag(0x0008, 0x0100)));
    }

    [Theory]
    [InlineData("ISO_IR 100", "Müller^Zoë", "latin1")]
    [InlineData("ISO_IR 192", "Nguyễn^Văn", "utf8")]
    [InlineData("", "Smith^Ann", "ascii")]
    public void Decodes_names_in_the_declared_character_set(string charset, string name, string encodingName)
    {
        Encoding enc = encodingName switch { "latin1" => Encoding.Latin1, "utf8" => Encoding.UTF8, _ => Encoding.ASCII };
        var r = new RawDicom();
        if (charset != "") r.Text(0x0008, 0x0005, "CS", charset);
        r.Text(0x0008, 0x0060, "CS", "CR").Text(0x0010, 0x0010, "PN", name, enc);
        var f = DicomFile.Read(r.ToArray());
        Assert.Equal(name, f.Dataset.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void Header_only_stops_at_pixel_data_and_reads_long_headers()
    {
        var r = RawDicom.WithMeta(TransferSyntax.ExplicitVRLittleEndianUid);
        r.Text(0x0008, 0x0060, "CS", "DX");
        r.Element(0x0009, 0x1000, "OB", new byte[200_000]); // a large private element before the pixels
        r.ImagePixel(1000, 1000, 16, 12, 0);
        r.Element(0x7FE0, 0x0010, "OW", new byte[2_000_000]);
        string path = Path.Combine(Path.GetTempPath(), $"hdr-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, r.ToArray());
        try
        {
            var f = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
            Assert.True(f.IsHeaderOnly);
            Assert.False(f.Dataset.Contains(DicomTags.PixelData));
            Assert.Equal(1000, f.Dataset.GetIntOrDefault(DicomTags.Columns, 0));
            Assert.Equal(r.Length, f.SourceSize);
            var full = DicomFile.Open(path);
            Assert.False(full.IsHeaderOnly);
            Assert.Equal(2_000_000, full.Dataset.GetElement(DicomTags.PixelData)!.Data.Length);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Header_only_still_reports_pixel_data_cut_short()
    {
        var r = RawDicom.WithMeta(TransferSyntax.ExplicitVRLittleEndianUid).Text(0x0008, 0x0060, "CS", "DX").ImagePixel(100, 100, 16, 12, 0);
        r.Element(0x7FE0, 0x0010, "OW", new byte[20_000]);
        var bytes = r.ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"cut-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, bytes[..^500]);
        try
        {
            var e = Assert.Throws<DicomException>(() => DicomFile.Open(path, DicomReadOptions.HeaderOnly));
            Assert.Contains("truncated: Pixel Data", e.Message);
        }
        finally { File.Delete(path); }
    }

    public static TheoryData<string, byte[]> BadInputs()
    {
        var good = PatientModule(RawDicom.WithMeta(TransferSyntax.ExplicitVRLittleEndianUid)).ToArray();
        var rnd = new Random(7);
        var random = new byte[4096];
        rnd.NextBytes(random);
        var beyond = RawDicom.WithMeta(TransferSyntax.ExplicitVRLittleEndianUid).Text(0x0008, 0x0060, "CS", "CR")
            .Header(0x0009, 0x0010, "OB", 1_000_000).Bytes(new byte[100]).ToArray();
        var badVr = RawDicom.WithMeta(TransferSyntax.ExplicitVRLittleEndianUid).Text(0x0008, 0x0060, "CS", "CR")
            .U16(0x0010).U16(0x0010).Bytes("\x01\x02"u8).U16(2).Bytes("AB"u8).ToArray();
        var noItem = new RawDicom().Text(0x0008, 0x0060, "CS", "CR").Header(0x0008, 0x1140, "SQ", 0xFFFFFFFF)
            .Text(0x0008, 0x1150, "UI", "1.2").ToArray();
        var unclosed = new RawDicom().Text(0x0008, 0x0060, "CS", "CR").Header(0x0008, 0x1140, "SQ", 0xFFFFFFFF).ItemStart()
            .Text(0x0008, 0x1150, "UI", "1.2").ToArray();
        return new()
        {
            { "empty", [] },
            { "random", random },
            { "preamble only", [.. new byte[128], .. "DICM"u8] },
            { "truncated header", good[..(good.Length - 3)] },
            { "truncated in meta", good[..140] },
            { "length beyond file", beyond },
            { "invalid VR", badVr },
            { "sequence without items", noItem },
            { "unclosed undefined-length item", unclosed },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_a_dicom_exception_with_a_reason(string what, byte[] bytes)
    {
        var e = Assert.Throws<DicomException>(() => DicomFile.Read(bytes, name: "bad.dcm"));
        Assert.StartsWith("bad.dcm: ", e.Message);
        Assert.True(e.Message.Length > "bad.dcm: ".Length + 5, what);
    }

    [Fact]
    public void Missing_file_is_a_dicom_exception_naming_it()
    {
        var e = Assert.Throws<DicomException>(() => DicomFile.Open("/nonexistent/x.dcm"));
        Assert.Contains("/nonexistent/x.dcm", e.Message);
    }
}
