using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace SpineXR.Web.Tests.DicomWeb;

/// <summary>
/// Debian's Orthanc with its DICOMweb plugin (installed by scripts/setup.sh --test), started for one test on
/// loopback with its own configuration and storage in a temporary folder, and stopped (and the folder deleted) after.
/// </summary>
public sealed class OrthancProcess : IDisposable
{
    public const string Binary = "/usr/sbin/Orthanc";
    public const string DicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

    private readonly Process _process;
    private readonly string _dir;

    public int HttpPort { get; }
    public int DicomPort { get; }
    public Uri BaseUrl => new($"http://127.0.0.1:{HttpPort}");
    public Uri DicomWebUrl => new($"http://127.0.0.1:{HttpPort}/dicom-web");
    public string LogPath => Path.Combine(_dir, "orthanc.log");

    private OrthancProcess(Process process, string dir, int httpPort, int dicomPort)
    {
        _process = process;
        _dir = dir;
        HttpPort = httpPort;
        DicomPort = dicomPort;
    }

    /// <summary>A TCP port free now on loopback (bound, then released).</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>
    /// Starts Orthanc on <paramref name="httpPort"/> / <paramref name="dicomPort"/> with DICOMweb peers
    /// <paramref name="peers"/> (name -> root URL) and the Lua script <paramref name="lua"/>; waits until it answers.
    /// </summary>
    public static async Task<OrthancProcess> StartAsync(int httpPort, int dicomPort, IReadOnlyDictionary<string, string> peers, string? lua = null)
    {
        Assert.True(File.Exists(Binary) && File.Exists(DicomWebPlugin),
            $"{Binary} or {DicomWebPlugin} missing: run scripts/setup.sh --test (installs Debian's orthanc and orthanc-dicomweb)");
        string dir = Directory.CreateTempSubdirectory("spinexr-orthanc-").FullName;
        var servers = new JsonObject();
        foreach (var (name, url) in peers) servers[name] = new JsonArray(url);
        var config = new JsonObject
        {
            ["Name"] = "SpineXR test PACS",
            ["StorageDirectory"] = Path.Combine(dir, "db"),
            ["IndexDirectory"] = Path.Combine(dir, "db"),
            ["HttpPort"] = httpPort,
            ["DicomPort"] = dicomPort,
            ["DicomAet"] = "ORTHANC",
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = false,
            ["StableAge"] = 1,
            ["Plugins"] = new JsonArray(DicomWebPlugin),
            ["DicomWeb"] = new JsonObject { ["Enable"] = true, ["Root"] = "/dicom-web/", ["Servers"] = servers },
            ["LuaScripts"] = new JsonArray(),
        };
        if (lua != null)
        {
            File.WriteAllText(Path.Combine(dir, "script.lua"), lua);
            config["LuaScripts"] = new JsonArray(Path.Combine(dir, "script.lua"));
        }
        string configPath = Path.Combine(dir, "orthanc.json");
        File.WriteAllText(configPath, config.ToJsonString());
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(configPath);
        psi.Environment.Remove("LD_PRELOAD");
        var process = Process.Start(psi)!;
        var log = new StreamWriter(Path.Combine(dir, "orthanc.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var orthanc = new OrthancProcess(process, dir, httpPort, dicomPort);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited) { string text = orthanc.Log(); orthanc.Dispose(); Assert.Fail("Orthanc exited at start:\n" + text); }
            try
            {
                if ((await http.GetAsync(new Uri(orthanc.BaseUrl, "/system"))).IsSuccessStatusCode) return orthanc;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) { orthanc.Dispose(); Assert.Fail("Orthanc did not answer within 30 s"); }
            await Task.Delay(100);
        }
    }

    public string Log()
    {
        try
        {
            using var fs = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(fs).ReadToEnd();
        }
        catch (IOException) { return ""; }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
