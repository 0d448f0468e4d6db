namespace SpineXR.Dicom;

/// <summary>A DICOM Part 10 file (or a bare dataset): the File Meta group, the dataset and its transfer syntax.</summary>
public sealed class DicomFile
{
    public DicomFile(DicomDataset meta, DicomDataset dataset, TransferSyntax transferSyntax)
    {
        Meta = meta;
        Dataset = dataset;
        TransferSyntax = transferSyntax;
    }

    /// <summary>File Meta Information (group 0002); empty for files without a meta header.</summary>
    public DicomDataset Meta { get; }

    public DicomDataset Dataset { get; }

    /// <summary>The transfer syntax the dataset was read in (from the meta header, or guessed from the first tag).</summary>
    public TransferSyntax TransferSyntax { get; }

    /// <summary>True when the file had the 128-byte preamble and "DICM".</summary>
    public bool HasPreamble { get; init; }

    /// <summary>True when reading stopped before Pixel Data (<see cref="DicomReadOptions.StopBeforePixelData"/>).</summary>
    public bool IsHeaderOnly { get; init; }

    /// <summary>Source path, when read from a file.</summary>
    public string? Path { get; init; }

    /// <summary>Size of the source in bytes.</summary>
    public long SourceSize { get; init; }

    /// <summary>Reads a file. Any failure is a <see cref="DicomException"/> whose message starts with the path.</summary>
    public static DicomFile Open(string path, DicomReadOptions? options = null) => DicomReader.ReadFile(path, options ?? DicomReadOptions.Default);

    /// <summary>Reads a file held in memory; <paramref name="name"/> prefixes error messages.</summary>
    public static DicomFile Read(ReadOnlyMemory<byte> bytes, DicomReadOptions? options = null, string? name = null) =>
        DicomReader.Read(bytes, options ?? DicomReadOptions.Default, name, partial: false, fileSize: bytes.Length);
}
