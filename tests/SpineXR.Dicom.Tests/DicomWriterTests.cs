using System.Buffers.Binary;

namespace SpineXR.Dicom.Tests;

public class DicomWriterTests
{
    private static DicomDataset Sample()
    {
        var item = new DicomDataset().SetString(new DicomTag(0x0008, 0x0100), DicomVR.SH, "ABC");
        return new DicomDataset()
            .SetString(DicomTags.SOPClassUID, DicomVR.UI, DicomUid.SecondaryCaptureImageStorage)
            .SetString(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.345") // odd length: padded with NUL
            .SetString(DicomTags.Modality, DicomVR.CS, "CR")
            .SetString(DicomTags.PatientName, DicomVR.PN, "Odd")
            .SetDoubles(DicomTags.WindowCenter, DicomVR.DS, 2047.5, 100)
            .SetInts(DicomTags.Rows, DicomVR.US, 3)
            .SetSequence(new DicomTag(0x0008, 0x1140), item, new DicomDataset());
    }

    [Fact]
    public void Writes_a_part10_file_with_a_correct_meta_header()
    {
        var bytes = DicomWriter.ToBytes(Sample());
        Assert.Equal("DICM"u8.ToArray(), bytes[128..132]);
        // (0002,0000) UL 4 <length of the rest of group 2>
        Assert.Equal(0x0002, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(132)));
        uint groupLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(140));
        int after = 144 + (int)groupLength;
        Assert.NotEqual(0x0002, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(after)));

        var f = DicomFile.Read(bytes);
        Assert.Equal(TransferSyntax.ExplicitVRLittleEndianUid, f.TransferSyntax.Uid);
        Assert.Equal(DicomUid.SecondaryCaptureImageStorage, f.Meta.GetString(DicomTags.MediaStorageSOPClassUID));
        Assert.Equal("1.2.345", f.Meta.GetString(DicomTags.MediaStorageSOPInstanceUID));
        Assert.Equal(DicomUid.ImplementationClassUid, f.Meta.GetString(DicomTags.ImplementationClassUID));
        Assert.Equal("1.2.345", f.Dataset.GetString(DicomTags.SOPInstanceUID));
        Assert.Equal(8, f.Dataset.GetElement(DicomTags.SOPInstanceUID)!.Data.Length);
        Assert.Equal(0, f.Dataset.GetElement(DicomTags.SOPInstanceUID)!.Data.Span[7]);
        Assert.Equal((byte)' ', f.Dataset.GetElement(DicomTags.PatientName)!.Data.Span[3]);
        Assert.Equal([2047.5, 100], f.Dataset.GetDoubles(DicomTags.WindowCenter));
        Assert.Equal(3, f.Dataset.GetIntOrDefault(DicomTags.Rows, 0));
        var seq = f.Dataset.GetSequence(new DicomTag(0x0008, 0x1140));
        Assert.Equal(2, seq.Count);
        Assert.Equal("ABC", seq[0].GetString(new DicomTag(0x0008, 0x0100)));
    }

    [Fact]
    public void Rewrites_a_big_endian_dataset_as_little_endian()
    {
        var be = new RawDicom(little: false)
            .Text(0x0008, 0x0016, "UI", "1.2.3").Text(0x0008, 0x0018, "UI", "1.2.3.4")
            .ImagePixel(1, 2, 16, 16, 0).Element(0x7FE0, 0x0010, "OW", [0x12, 0x34, 0xAB, 0xCD]).ToArray();
        var f = DicomFile.Read(be);
        var round = DicomFile.Read(DicomWriter.ToBytes(f.Dataset));
        Assert.Equal(2, round.Dataset.GetIntOrDefault(DicomTags.Columns, 0));
        Assert.Equal(new byte[] { 0x34, 0x12, 0xCD, 0xAB }, round.Dataset.GetElement(DicomTags.PixelData)!.Data.ToArray());
    }

    [Fact]
    public void Decimal_strings_fit_sixteen_characters()
    {
        foreach (double v in new[] { Math.PI, -1.0 / 3, 1e-20, 123456789012345678.0, 0.1 })
        {
            string s = DicomDataset.FormatDecimalString(v);
            Assert.True(s.Length <= 16, s);
            Assert.Equal(v, double.Parse(s, System.Globalization.CultureInfo.InvariantCulture), Math.Abs(v) * 1e-9 + 1e-30);
        }
    }

    [Fact]
    public void Uids_are_valid_and_deterministic_from_a_seed()
    {
        string a = DicomUid.FromSeed("study-1"), b = DicomUid.FromSeed("study-1"), c = DicomUid.FromSeed("study-2");
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.True(DicomUid.IsValid(a));
        Assert.StartsWith("2.25.", a);
        Assert.True(DicomUid.IsValid(DicomUid.Generate()));
        Assert.NotEqual(DicomUid.Generate(), DicomUid.Generate());
        Assert.True(DicomUid.IsValid(DicomUid.FromSeed("1.2.826.0.1.3680043.10.543", "x")));
    }

    [Fact]
    public void Grayscale_image_round_trips_native()
    {
        var px = new ushort[6 * 5];
        for (int i = 0; i < px.Length; i++) px[i] = (ushort)(i * 131 % 4096);
        var header = new GrayscaleImageHeader
        {
            Rows = 6, Columns = 5, BitsStored = 12, Photometric = "MONOCHROME1", UidSeed = "img-7", Modality = "CR",
            BodyPartExamined = "SPINE", PatientSex = "F", PatientAge = "061Y", PixelSpacing = [0.15, 0.15],
            WindowCenter = 2000, WindowWidth = 3000,
        };
        var bytes = DicomImageWriter.ToBytes(header, px);
        var f = DicomFile.Read(bytes);
        Assert.Equal(DicomUid.FromSeed("img-7/sop"), f.Dataset.GetString(DicomTags.SOPInstanceUID));
        Assert.Equal("MONOCHROME1", f.Dataset.GetString(DicomTags.PhotometricInterpretation));
        Assert.Equal("061Y", f.Dataset.GetString(DicomTags.PatientAge));
        Assert.Equal([0.15, 0.15], f.Dataset.GetDoubles(DicomTags.PixelSpacing));
        var frame = SpineXR.Dicom.Imaging.PixelDecoder.DecodeGray(f);
        Assert.Equal(px.Select(p => (int)p).ToArray(), frame.Values);
        Assert.Equal(bytes, DicomImageWriter.ToBytes(header, px)); // same seed, same file
        Assert.Throws<ArgumentException>(() => DicomImageWriter.ToBytes(header with { BitsStored = 8 }, px));
    }

    private sealed class FakeEncoder : SpineXR.Dicom.Codecs.IPixelEncoder
    {
        public string TransferSyntax => "1.2.840.10008.1.2.4.100"; // MPEG2: no codec will ever decode this
        public byte[] Encode(ReadOnlySpan<byte> frame, SpineXR.Dicom.Codecs.PixelFormat format) => [0xFF, 0x4F, .. frame[..3]];
    }

    [Fact]
    public void Grayscale_image_with_an_encoder_is_encapsulated_with_an_offset_table()
    {
        var px = new ushort[4] { 1, 2, 3, 4 };
        var f = DicomFile.Read(DicomImageWriter.ToBytes(new GrayscaleImageHeader { Rows = 2, Columns = 2 }, px, new FakeEncoder()));
        Assert.Equal("1.2.840.10008.1.2.4.100", f.TransferSyntax.Uid);
        var pd = f.Dataset.GetElement(DicomTags.PixelData)!;
        Assert.True(pd.IsEncapsulated);
        Assert.Equal(2, pd.Fragments!.Count);
        Assert.Equal(new byte[4], pd.Fragments[0].ToArray()); // BOT: one offset, 0
        Assert.Equal(new byte[] { 0xFF, 0x4F, 1, 0, 2, 0 }, pd.Fragments[1].ToArray()); // 5 bytes padded to 6
        Assert.Equal("01", f.Dataset.GetString(DicomTags.LossyImageCompression));
        var e = Assert.Throws<DicomException>(() => SpineXR.Dicom.Imaging.PixelDecoder.DecodeGray(f));
        Assert.Contains("no codec", e.Message);
    }
}
