using System.Diagnostics;

namespace SpineXR.Tests;

/// <summary>
/// Debian command-line DICOM checkers (dicom3tools' dciodvfy, dcmtk's dsrdump and dcmpschk), installed by
/// scripts/setup.sh --test. A missing tool fails the test with the package to install, never skips it.
/// </summary>
internal static class ExternalTool
{
    /// <summary>Runs <paramref name="tool"/> (from /usr/bin, package <paramref name="package"/>); returns exit code and stdout+stderr.</summary>
    public static (int ExitCode, string Output) Run(string tool, string package, params string[] args)
    {
        string path = "/usr/bin/" + tool;
        Assert.True(File.Exists(path), $"{path} missing: run scripts/setup.sh --test (installs Debian's {package})");
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), $"{tool} did not finish in 60 s");
        return (p.ExitCode, stdout + stderr.GetAwaiter().GetResult());
    }
}
