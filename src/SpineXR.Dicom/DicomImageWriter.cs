using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom;

/// <summary>Writes grayscale radiographs from stored values and a small header (the synthetic generator and reports use it).</summary>
public static class DicomImageWriter
{
    /// <summary>
    /// The dataset for <paramref name="header"/> and <paramref name="pixels"/> (Rows x Columns stored values, row-major,
    /// each below 2^BitsStored). With an <paramref name="encoder"/> the pixel data is encapsulated in its transfer syntax.
    /// </summary>
    public static DicomDataset BuildDataset(GrayscaleImageHeader header, ReadOnlySpan<ushort> pixels, IPixelEncoder? encoder = null)
    {
        header.Validate();
        long n = (long)header.Rows * header.Columns;
        if (pixels.Length != n) throw new ArgumentException($"{pixels.Length} pixels given for {header.Rows}x{header.Columns}", nameof(pixels));
        int limit = (1 << header.BitsStored) - 1;
        for (int i = 0; i < pixels.Length; i++)
            if (pixels[i] > limit) throw new ArgumentException($"pixel {i} is {pixels[i]}, above the {header.BitsStored}-bit maximum {limit}", nameof(pixels));

        int bitsAllocated = header.BitsStored <= 8 ? 8 : 16;
        string Uid(string? given, string kind) => given ?? (header.UidSeed != null ? DicomUid.FromSeed(header.UidSeed + "/" + kind) : DicomUid.Generate());
        var ds = new DicomDataset();
        var texts = new[] { header.PatientName, header.PatientId, header.BodyPartExamined, header.Manufacturer };
        if (texts.Any(t => t != null && t.Any(c => c > 127))) ds.SetString(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        ds.SetString(DicomTags.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY");
        ds.SetString(DicomTags.SOPClassUID, DicomVR.UI, header.SopClassUid);
        ds.SetString(DicomTags.SOPInstanceUID, DicomVR.UI, Uid(header.SopInstanceUid, "sop"));
        if (header.StudyDate != null) ds.SetString(DicomTags.StudyDate, DicomVR.DA, header.StudyDate);
        ds.SetString(DicomTags.Modality, DicomVR.CS, header.Modality);
        if (header.Manufacturer != null) ds.SetString(DicomTags.Manufacturer, DicomVR.LO, header.Manufacturer);
        ds.SetString(DicomTags.PatientName, DicomVR.PN, header.PatientName ?? "");
        ds.SetString(DicomTags.PatientID, DicomVR.LO, header.PatientId ?? "");
        if (header.PatientSex != null) ds.SetString(DicomTags.PatientSex, DicomVR.CS, header.PatientSex);
        if (header.PatientAge != null) ds.SetString(DicomTags.PatientAge, DicomVR.AS, header.PatientAge);
        if (header.BodyPartExamined != null) ds.SetString(DicomTags.BodyPartExamined, DicomVR.CS, header.BodyPartExamined);
        if (header.PixelSpacing != null) ds.SetDoubles(DicomTags.ImagerPixelSpacing, DicomVR.DS, header.PixelSpacing);
        ds.SetString(DicomTags.StudyInstanceUID, DicomVR.UI, Uid(header.StudyInstanceUid, "study"));
        ds.SetString(DicomTags.SeriesInstanceUID, DicomVR.UI, Uid(header.SeriesInstanceUid, "series"));
        ds.SetInts(DicomTags.SamplesPerPixel, DicomVR.US, 1);
        ds.SetString(DicomTags.PhotometricInterpretation, DicomVR.CS, header.Photometric);
        ds.SetInts(DicomTags.Rows, DicomVR.US, header.Rows);
        ds.SetInts(DicomTags.Columns, DicomVR.US, header.Columns);
        if (header.PixelSpacing != null) ds.SetDoubles(DicomTags.PixelSpacing, DicomVR.DS, header.PixelSpacing);
        ds.SetInts(DicomTags.BitsAllocated, DicomVR.US, bitsAllocated);
        ds.SetInts(DicomTags.BitsStored, DicomVR.US, header.BitsStored);
        ds.SetInts(DicomTags.HighBit, DicomVR.US, header.BitsStored - 1);
        ds.SetInts(DicomTags.PixelRepresentation, DicomVR.US, 0);
        if (header.WindowCenter is { } c && header.WindowWidth is { } w)
        {
            ds.SetDoubles(DicomTags.WindowCenter, DicomVR.DS, c);
            ds.SetDoubles(DicomTags.WindowWidth, DicomVR.DS, w);
        }

        byte[] native = new byte[n * (bitsAllocated / 8)];
        if (bitsAllocated == 8)
            for (int i = 0; i < pixels.Length; i++) native[i] = (byte)pixels[i];
        else
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels).CopyTo(native);

        if (encoder == null)
        {
            ds.SetBytes(DicomTags.PixelData, bitsAllocated == 8 ? DicomVR.OB : DicomVR.OW, native);
            return ds;
        }
        var format = new PixelFormat(header.Rows, header.Columns, 1, bitsAllocated, header.BitsStored, 0, header.Photometric);
        byte[] encoded = encoder.Encode(native, format);
        bool lossless = TransferSyntaxIsLossless(encoder.TransferSyntax);
        ds.SetString(DicomTags.LossyImageCompression, DicomVR.CS, lossless ? "00" : "01");
        ds.Set(EncapsulatedPixelData.Build([encoded]));
        return ds;
    }

    /// <summary>Writes the image to <paramref name="path"/> atomically; the transfer syntax is the encoder's, or explicit VR LE.</summary>
    public static void Save(string path, GrayscaleImageHeader header, ReadOnlySpan<ushort> pixels, IPixelEncoder? encoder = null) =>
        DicomWriter.Save(path, BuildDataset(header, pixels, encoder), encoder?.TransferSyntax ?? TransferSyntax.ExplicitVRLittleEndianUid);

    public static byte[] ToBytes(GrayscaleImageHeader header, ReadOnlySpan<ushort> pixels, IPixelEncoder? encoder = null) =>
        DicomWriter.ToBytes(BuildDataset(header, pixels, encoder), encoder?.TransferSyntax ?? TransferSyntax.ExplicitVRLittleEndianUid);

    private static bool TransferSyntaxIsLossless(string uid) => uid is TransferSyntax.JpegLosslessUid or TransferSyntax.JpegLosslessSV1Uid
        or TransferSyntax.JpegLSLosslessUid or TransferSyntax.Jpeg2000LosslessUid or TransferSyntax.HtJ2kLosslessUid
        or TransferSyntax.HtJ2kLosslessRpclUid or TransferSyntax.RleLosslessUid;
}
