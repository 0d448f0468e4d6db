namespace SpineXR.Dicom.Codecs;

/// <summary>Finds the codec for a transfer syntax. Codecs are registered here, one line each.</summary>
public static class CodecRegistry
{
    private static readonly IPixelCodec[] Codecs =
    [
        new RleCodec(),
        new JpegLosslessCodec(),
        new JpegDctCodec(),
        new JpegLsCodec(),
        new Jpeg2000Codec(),
    ];

    private static readonly IPixelEncoder[] Encoders =
    [
        new Jpeg2000Encoder(),
    ];

    /// <summary>Every registered codec.</summary>
    public static IReadOnlyList<IPixelCodec> All => Codecs;

    /// <summary>The codec that decodes <paramref name="transferSyntax"/>, or null when none does.</summary>
    public static IPixelCodec? Find(string transferSyntax) =>
        Array.Find(Codecs, c => c.TransferSyntaxes.Contains(transferSyntax));

    /// <summary>The encoder that writes <paramref name="transferSyntax"/>, or null when none does.</summary>
    public static IPixelEncoder? FindEncoder(string transferSyntax) =>
        Array.Find(Encoders, e => e.TransferSyntax == transferSyntax);
}
