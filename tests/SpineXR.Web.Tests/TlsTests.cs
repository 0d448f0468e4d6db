using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SpineXR.Web.Tests;

/// <summary>https with a PEM certificate and key (--cert, --cert-key), checked by curl against a certificate made here.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-tls-" + Guid.NewGuid().ToString("N"));

    public TlsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A self-signed certificate for 127.0.0.1 and localhost, as PEM files.</summary>
    private (string Cert, string Key, X509Certificate2 Certificate) SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var req = new CertificateRequest("CN=spinexr-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string certPath = Path.Combine(_dir, "cert.pem"), keyPath = Path.Combine(_dir, "key.pem");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath, cert);
    }

    [Fact]
    public async Task Curl_reaches_the_api_over_https_verifying_the_certificate()
    {
        var (cert, key, certificate) = SelfSigned();
        var options = new SpineServerOptions { Urls = "https://127.0.0.1:0", CertificatePath = cert, CertificateKeyPath = key, ConsoleLogging = false };
        await using var server = SpineServer.Create(options, new FakePredictor());
        await server.StartAsync();
        var address = new Uri(server.Addresses.Single());
        Assert.Equal("https", address.Scheme);

        var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-sS", "--cacert", cert, "-w", "\n%{http_code} %{ssl_verify_result}", $"https://127.0.0.1:{address.Port}/api/v1/health" })
            psi.ArgumentList.Add(a);
        using var curl = Process.Start(psi)!;
        string stdout = await curl.StandardOutput.ReadToEndAsync(), stderr = await curl.StandardError.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, $"curl exit {curl.ExitCode}: {stderr}");
        Assert.Contains("\"status\":\"ok\"", stdout);
        Assert.EndsWith("200 0", stdout.Trim()); // HTTP 200, certificate verified (0 = X509_V_OK)

        // An upload over TLS, the client pinning the certificate made above.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c?.Thumbprint == certificate.Thumbprint };
        using var client = new HttpClient(handler) { BaseAddress = address };
        var body = new ByteArrayContent(TestImages.Dicom(96, 64));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        using var r = await client.PostAsync("/api/v1/predict", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public void Https_without_a_certificate_and_a_certificate_without_https_are_refused_in_one_line()
    {
        var (cert, key, _) = SelfSigned();
        var e = Assert.Throws<ArgumentException>(() => new SpineServerOptions { Urls = "https://127.0.0.1:0" }.Validate());
        Assert.Contains("--cert and --cert-key", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SpineServerOptions { CertificatePath = cert, CertificateKeyPath = key }.Validate());
        Assert.Contains("no https:// address", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SpineServerOptions { CertificatePath = cert }.Validate());
        Assert.Contains("go together", e.Message);
        // a key that is not the certificate's
        string other = Path.Combine(_dir, "other.pem");
        using (var rsa = RSA.Create(2048)) File.WriteAllText(other, rsa.ExportPkcs8PrivateKeyPem());
        var options = new SpineServerOptions { Urls = "https://127.0.0.1:0", CertificatePath = cert, CertificateKeyPath = other, ConsoleLogging = false };
        e = Assert.Throws<ArgumentException>(() => SpineServer.Create(options, new FakePredictor()));
        Assert.Contains("cannot load the certificate", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
