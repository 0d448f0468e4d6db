using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Synthesis;

/// <summary>Writes a synthetic image as DICOM: JPEG 2000 lossless or explicit VR little endian, 12 bits stored in 16, UIDs from the ids.</summary>
public static class SynthDicom
{
    /// <summary>CR Image Storage.</summary>
    public const string CrImageStorage = "1.2.840.10008.5.1.4.1.1.1";

    public static GrayscaleImageHeader Header(SynthImage im, SynthPixels px) => new()
    {
        Rows = px.Height,
        Columns = px.Width,
        BitsStored = 12,
        Photometric = im.Header.Photometric,
        SopClassUid = im.Header.Modality == "CR" ? CrImageStorage : DicomUid.DigitalXRayImageStorageForPresentation,
        SopInstanceUid = SynthIds.Uid(im.ImageId),
        StudyInstanceUid = SynthIds.Uid(im.StudyId),
        SeriesInstanceUid = SynthIds.Uid(im.SeriesId),
        Modality = im.Header.Modality,
        BodyPartExamined = im.Scene.Region == SpineRegion.Lumbar ? "LSPINE" : "CSPINE",
        PatientId = im.PatientId,
        PatientName = "",
        PatientSex = im.Header.PatientSex,
        PatientAge = im.Header.PatientAge.ToString("000", System.Globalization.CultureInfo.InvariantCulture) + "Y",
        StudyDate = im.Header.StudyDate,
        Manufacturer = "SpineXR synthetic",
        PixelSpacing = [im.Header.PixelSpacing, im.Header.PixelSpacing],
        WindowCenter = px.WindowCenter,
        WindowWidth = px.WindowWidth,
    };

    /// <summary>Writes the file atomically.</summary>
    public static void Write(string path, SynthImage im, SynthPixels px) =>
        DicomImageWriter.Save(path, Header(im, px), px.Stored, im.Header.Jpeg2000 ? Encoder : null);

    private static IPixelEncoder Encoder => CodecRegistry.FindEncoder(TransferSyntax.Jpeg2000LosslessUid)
        ?? throw new InvalidOperationException("no JPEG 2000 encoder registered");
}
