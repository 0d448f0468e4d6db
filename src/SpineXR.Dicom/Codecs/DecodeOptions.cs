using System.Reflection;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// How encapsulated frames are decoded: where the external libraries' decodes run and how many threads OpenJPEG
/// gets. An application builds the options it needs and hands them to <see cref="Imaging.DicomPixelData.Create"/>;
/// nothing about decoding is process-wide state, so a web service that isolates every decode and a batch job that
/// trusts its archive can share a process (docs/dicom.md "Decode hosts").
/// </summary>
public sealed record DecodeOptions
{
    /// <summary>
    /// The options of a caller that gives none: in-process decodes with one OpenJPEG thread, except HTJ2K, which
    /// goes to this executable as a decode host when the entry assembly carries <see cref="DecodeHostEntryPointAttribute"/>.
    /// </summary>
    public static DecodeOptions Default => LazyDefault.Value;

    private static readonly Lazy<DecodeOptions> LazyDefault = new(() => new DecodeOptions
    {
        Host = Assembly.GetEntryAssembly()?.GetCustomAttribute<DecodeHostEntryPointAttribute>() != null ? DecodeHost.ForCurrentExecutable() : null,
    });

    /// <summary>Helper processes for the decodes that may abort or loop (see <see cref="DecodeHost"/>); null decodes everything in process.</summary>
    public DecodeHost? Host { get; init; }

    /// <summary>
    /// False (the default): only HTJ2K goes to <see cref="Host"/>, the case that can abort(). True: every stream of an
    /// external library (OpenJPEG for all JPEG 2000, reduced decodes included; CharLS for JPEG-LS) does, so a stream
    /// that loops forever (OpenJPEG 2.5.0: CVE-2023-39327) costs one killed host after <see cref="Timeout"/> instead
    /// of a thread for good. `spinexr serve` turns it on; a batch job that trusts its archive need not pay the copies.
    /// </summary>
    public bool IsolateAllExternalCodecs { get; init; }

    /// <summary>How long one decode may take in a host before it is killed and the frame reported as failed (default 300 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// OpenJPEG threads per JPEG 2000 decode in this process. 1 (the default) suits a batch that already decodes one
    /// file per core; one that runs fewer files at once than there are cores gives the spare cores to each decode.
    /// </summary>
    public int Jpeg2000Threads
    {
        get => _jpeg2000Threads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _jpeg2000Threads = value;
        }
    }

    private readonly int _jpeg2000Threads = 1;

    /// <summary>True when a decode of an external library should go to the host (there is one, and the stream or the options ask for it).</summary>
    internal bool UsesHost(bool highThroughput) => Host is not null && (highThroughput || IsolateAllExternalCodecs);
}

/// <summary>
/// Marks an application whose Main starts with <see cref="DecodeHost.RunIfRequested"/>, so that
/// <see cref="DecodeOptions.Default"/> may start the application itself as its decode host.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class DecodeHostEntryPointAttribute : Attribute;
