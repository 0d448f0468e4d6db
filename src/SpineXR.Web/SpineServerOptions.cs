namespace SpineXR.Web;

/// <summary>Settings of `spinexr serve`. Defaults suit one radiologist's workstation: loopback only, no key.</summary>
public sealed record SpineServerOptions
{
    /// <summary>Addresses to listen on, separated by ';'. Port 0 picks a free port (see <see cref="SpineServer.Addresses"/>).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:5080";

    /// <summary>When set, every /api/v1 call except health and the OpenAPI document needs header X-Api-Key with this value.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Largest accepted upload (DICOM or PNG bytes) in MiB; larger bodies get 413.</summary>
    public int MaxUploadMB { get; init; } = 64;

    /// <summary>Predictions running at once (decode + models). Each holds one decoded image in memory.</summary>
    public int MaxConcurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>Requests admitted to wait for a free slot beyond those running; more get 503 with Retry-After.</summary>
    public int QueueLength { get; init; } = 16;

    /// <summary>Recent results kept for the overlay and image endpoints (least recently used dropped first).</summary>
    public int RecentResults { get; init; } = 32;

    /// <summary>Longest side of the images kept for viewing (raw, PNG and overlay endpoints); boxes scale with it.</summary>
    public int ViewMaxSide { get; init; } = 1024;

    /// <summary>Largest STOW-RS request (all its instances together) in MiB; larger bodies get 413.</summary>
    public int MaxStowMB { get; init; } = 512;

    /// <summary>
    /// DICOMweb service (its root, e.g. Orthanc's http://pacs:8042/dicom-web) that receives the SR and presentation state
    /// of every instance stored through STOW-RS; null keeps results in this server only.
    /// </summary>
    public Uri? DicomWebDestination { get; init; }

    /// <summary>Warnings and the startup line to the console (off in tests).</summary>
    public bool ConsoleLogging { get; init; } = true;

    public long MaxUploadBytes => (long)MaxUploadMB * 1024 * 1024;
    public long MaxStowBytes => (long)MaxStowMB * 1024 * 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field out of range.</summary>
    public SpineServerOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(Urls)) throw new ArgumentException("must name at least one address", nameof(Urls));
        foreach (var u in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"'{u}' is not an http(s) URL", nameof(Urls));
        if (ApiKey is { Length: 0 }) throw new ArgumentException("must not be empty (leave it unset for no key)", nameof(ApiKey));
        if (MaxUploadMB is < 1 or > 2000) throw new ArgumentException($"{MaxUploadMB} is outside 1..2000", nameof(MaxUploadMB));
        if (MaxStowMB is < 1 or > 2000) throw new ArgumentException($"{MaxStowMB} is outside 1..2000", nameof(MaxStowMB));
        if (DicomWebDestination is { } d && (!d.IsAbsoluteUri || d.Scheme is not ("http" or "https")))
            throw new ArgumentException($"'{d}' is not an http(s) URL", nameof(DicomWebDestination));
        if (MaxConcurrency is < 1 or > 1024) throw new ArgumentException($"{MaxConcurrency} is outside 1..1024", nameof(MaxConcurrency));
        if (QueueLength is < 0 or > 100_000) throw new ArgumentException($"{QueueLength} is outside 0..100000", nameof(QueueLength));
        if (RecentResults is < 1 or > 10_000) throw new ArgumentException($"{RecentResults} is outside 1..10000", nameof(RecentResults));
        if (ViewMaxSide is < 64 or > 16384) throw new ArgumentException($"{ViewMaxSide} is outside 64..16384", nameof(ViewMaxSide));
        return this;
    }
}
