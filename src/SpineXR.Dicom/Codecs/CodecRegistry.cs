namespace SpineXR.Dicom.Codecs;

/// <summary>Finds the codec for a transfer syntax. Codecs are registered here, one line each.</summary>
public static class CodecRegistry
{
    private static readonly IPixelCodec[] Codecs =
    [
        new Jpeg2000Codec(),
    ];

    /// <summary>Every registered codec.</summary>
    public static IReadOnlyList<IPixelCodec> All => Codecs;

    /// <summary>The codec that decodes <paramref name="transferSyntax"/>, or null when none does.</summary>
    public static IPixelCodec? Find(string transferSyntax) =>
        Array.Find(Codecs, c => c.TransferSyntaxes.Contains(transferSyntax));
}
