using SpineXR.Dicom.Codecs;

namespace SpineXR.Web;

/// <summary>Settings of `spinexr serve`. Defaults suit one radiologist's workstation: loopback only, no key.</summary>
public sealed record SpineServerOptions
{
    /// <summary>Addresses to listen on, separated by ';'. Port 0 picks a free port (see <see cref="SpineServer.Addresses"/>).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:5080";

    /// <summary>PEM certificate (chain) for https:// addresses in <see cref="Urls"/>; needs <see cref="CertificateKeyPath"/>.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>PEM private key (PKCS#8 or PKCS#1, unencrypted) of <see cref="CertificatePath"/>.</summary>
    public string? CertificateKeyPath { get; init; }

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
    /// <summary>
    /// Largest image decoded, in megapixels of its declared size (DICOM Rows x Columns, PNG IHDR); larger gets 413
    /// naming this limit before any pixel is decoded. Default 50 (a 7,000 x 7,000 radiograph), `predict`'s own limit.
    /// </summary>
    public int MaxMegapixels { get; init; } = (int)(Inference.SpineImageLoader.DefaultMaxPixels / 1_000_000);

    /// <summary>
    /// Global budget of decoded pixel memory in MiB, shared by every request: a decode reserves its estimated bytes
    /// first and waits while others hold the budget; one that alone exceeds it gets 413. Default 1024.
    /// </summary>
    public int DecodeBudgetMB { get; init; } = 1024;

    /// <summary>
    /// How uploads are decoded. Uploads are untrusted: by default every external-library decode (OpenJPEG, CharLS)
    /// runs in a decode host under a 30 s deadline, so a stream that aborts or loops costs one killed helper, never
    /// the server or a thread for good (where the application has a host: <see cref="DecodeOptions.Default"/>).
    /// </summary>
    public DecodeOptions Decode { get; init; } = DecodeOptions.Default with { IsolateAllExternalCodecs = true, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Requests one client (remote address) may have in flight at once; more get 429. Default 4.</summary>
    public int MaxRequestsPerClient { get; init; } = 4;

    /// <summary>Upload requests in flight at once over all clients (reading, waiting, running); more get 503. Default 64.</summary>
    public int MaxRequestsInFlight { get; init; } = 64;

    /// <summary>Seconds an upload body may take to arrive, whatever its rate; slower gets 408. Default 120.</summary>
    public int UploadTimeoutSeconds { get; init; } = 120;

    /// <summary>
    /// Least upload rate in bytes per second, enforced by Kestrel after a 5 s grace period (the connection is closed).
    /// Default 4096.
    /// </summary>
    public int MinUploadBytesPerSecond { get; init; } = 4096;

    /// <summary>Seconds a prediction request may take in all (upload, queue, decode, models); longer gets 503. Default 300.</summary>
    public int RequestTimeoutSeconds { get; init; } = 300;

    /// <summary>
    /// Host header values accepted, ';'-separated, against DNS rebinding; "*" accepts any. Default: the loopback
    /// names when every address is loopback, else "*" (a key is then required anyway).
    /// </summary>
    public string? AllowedHosts { get; init; }

    /// <summary>Warnings and the startup line to the console (off in tests).</summary>
    public bool ConsoleLogging { get; init; } = true;

    public long MaxUploadBytes => (long)MaxUploadMB * 1024 * 1024;
    public long MaxStowBytes => (long)MaxStowMB * 1024 * 1024;
    public long MaxPixels => (long)MaxMegapixels * 1_000_000;
    public long DecodeBudgetBytes => (long)DecodeBudgetMB * 1024 * 1024;

    /// <summary>The Host values accepted: <see cref="AllowedHosts"/>, or its default.</summary>
    public IReadOnlyList<string> HostsAllowed => AllowedHosts is { Length: > 0 } given
        ? given.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        : AllLoopback ? new[] { "localhost", "127.0.0.1", "[::1]" }.Concat(Addresses().Select(HostOf)).Distinct(StringComparer.OrdinalIgnoreCase).ToList() : ["*"];

    /// <summary>True when every address in <see cref="Urls"/> is a loopback one (localhost, 127.0.0.0/8, ::1).</summary>
    public bool AllLoopback => Addresses().All(IsLoopback);

    private IEnumerable<string> Addresses() => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The host of an address in <see cref="Urls"/> ("127.0.0.2", "[::1]", "*").</summary>
    private static string HostOf(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        string rest = scheme >= 0 ? url[(scheme + 3)..] : url;
        string host = rest.Split('/')[0];
        return host.StartsWith('[') ? host[..(host.IndexOf(']') + 1)] : host.Split(':')[0];
    }

    /// <summary>Kestrel's wildcards (*, +, 0.0.0.0, [::]) and named hosts other than localhost are not loopback.</summary>
    public static bool IsLoopback(string url)
    {
        string host = HostOf(url);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field out of range.</summary>
    public SpineServerOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(Urls)) throw new ArgumentException("must name at least one address", nameof(Urls));
        bool https = false;
        foreach (var u in Addresses())
        {
            bool secure = u.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
            https |= secure;
            if (secure && (CertificatePath is null || CertificateKeyPath is null))
                throw new ArgumentException($"'{u}': https needs --cert and --cert-key (PEM), or listen on http://127.0.0.1 behind a TLS proxy (docs/serve-hardening.md)", nameof(Urls));
            if (!secure && !u.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || u.Length <= (secure ? 8 : 7))
                throw new ArgumentException($"'{u}' is not an http(s) URL", nameof(Urls));
        }
        if ((CertificatePath is null) != (CertificateKeyPath is null))
            throw new ArgumentException("--cert and --cert-key go together", nameof(CertificatePath));
        if (CertificatePath is not null && !https)
            throw new ArgumentException("a certificate is given but no https:// address is in --urls", nameof(CertificatePath));
        foreach (var f in new[] { CertificatePath, CertificateKeyPath })
            if (f is not null && !File.Exists(f)) throw new ArgumentException($"no file '{f}'", nameof(CertificatePath));
        if (ApiKey is { Length: 0 }) throw new ArgumentException("must not be empty (leave it unset for no key)", nameof(ApiKey));
        if (ApiKey is null && !AllLoopback)
            throw new ArgumentException($"'{Urls}' is reachable from other machines; set an API key (--api-key-file) or listen on 127.0.0.1", nameof(Urls));
        if (MaxMegapixels is < 1 or > 1000) throw new ArgumentException($"{MaxMegapixels} is outside 1..1000", nameof(MaxMegapixels));
        if (DecodeBudgetMB is < 16 or > 1_000_000) throw new ArgumentException($"{DecodeBudgetMB} is outside 16..1000000", nameof(DecodeBudgetMB));
        if (MaxRequestsPerClient is < 1 or > 100_000) throw new ArgumentException($"{MaxRequestsPerClient} is outside 1..100000", nameof(MaxRequestsPerClient));
        if (MaxRequestsInFlight is < 1 or > 100_000) throw new ArgumentException($"{MaxRequestsInFlight} is outside 1..100000", nameof(MaxRequestsInFlight));
        if (UploadTimeoutSeconds is < 1 or > 86_400) throw new ArgumentException($"{UploadTimeoutSeconds} is outside 1..86400", nameof(UploadTimeoutSeconds));
        if (MinUploadBytesPerSecond is < 0 or > 1 << 30) throw new ArgumentException($"{MinUploadBytesPerSecond} is outside 0..2^30 (0 = no minimum)", nameof(MinUploadBytesPerSecond));
        if (RequestTimeoutSeconds is < 1 or > 86_400) throw new ArgumentException($"{RequestTimeoutSeconds} is outside 1..86400", nameof(RequestTimeoutSeconds));
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
