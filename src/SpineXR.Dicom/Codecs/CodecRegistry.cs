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

    /// <summary>
    /// OpenJPEG threads per JPEG 2000 decode for the registered codec. A batch that already decodes one file per core
    /// keeps 1; one that runs fewer files at once than there are cores gives the spare cores to each decode.
    /// Set it before decoding starts (it swaps the registered codec instance).
    /// </summary>
    public static int Jpeg2000Threads
    {
        get => ((Jpeg2000Codec)Codecs[Array.FindIndex(Codecs, c => c is Jpeg2000Codec)]).Threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            int i = Array.FindIndex(Codecs, c => c is Jpeg2000Codec);
            if (((Jpeg2000Codec)Codecs[i]).Threads != value) Codecs[i] = new Jpeg2000Codec(value);
        }
    }

    /// <summary>The encoder that writes <paramref name="transferSyntax"/>, or null when none does.</summary>
    public static IPixelEncoder? FindEncoder(string transferSyntax) =>
        Array.Find(Encoders, e => e.TransferSyntax == transferSyntax);
}
