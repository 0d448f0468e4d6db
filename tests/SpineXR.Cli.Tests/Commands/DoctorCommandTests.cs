using System.Diagnostics;
using SpineXR.Vision;

namespace SpineXR.Cli.Tests.Commands;

/// <summary>`spinexr doctor` as a process: the native libraries load, and Main restarts itself on tcmalloc.</summary>
public sealed class DoctorCommandTests
{
    private static (int Code, string Output) Doctor(string? allocator)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SpineXR.Cli.dll"));
        psi.ArgumentList.Add("doctor");
        psi.Environment.Remove("LD_PRELOAD"); // as a shell starts it, not as the test host runs
        psi.Environment.Remove(NativeAllocator.OptOutVariable);
        if (allocator is not null) psi.Environment[NativeAllocator.OptOutVariable] = allocator;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "spinexr doctor did not finish");
        p.WaitForExit();
        return (p.ExitCode, output + stderr.Result);
    }

    [Fact]
    public void Reports_every_library_and_runs_on_tcmalloc_when_installed()
    {
        var (code, output) = Doctor(null);
        Assert.Equal(0, code);
        Assert.Contains("ok      libtorch", output);
        Assert.Contains("ok      TorchSharp keep-alive patch 1", output);
        Assert.Contains("ok      OpenJPEG", output);
        Assert.Contains("ok      CharLS", output);
        // scripts/setup.sh installs libtcmalloc-minimal4; without it the line says how to get it
        Assert.Contains(NativeAllocator.Installed is null ? "note    allocator: glibc malloc: install libtcmalloc-minimal4" : "ok      allocator: tcmalloc", output);
    }

    [Fact]
    public void Keeps_glibc_malloc_when_opted_out()
    {
        var (code, output) = Doctor("system");
        Assert.Equal(0, code);
        Assert.Contains("allocator: glibc malloc", output);
    }
}
