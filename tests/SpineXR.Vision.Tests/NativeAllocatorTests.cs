using SpineXR.Vision;

namespace SpineXR.Vision.Tests;

public sealed class NativeAllocatorTests
{
    private const string Lib = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";

    [Fact]
    public void Restarts_with_tcmalloc_first_in_the_preload_list()
    {
        Assert.Equal(Lib, NativeAllocator.RestartPreload(null, null, Lib));
        Assert.Equal(Lib, NativeAllocator.RestartPreload("", null, Lib));
        Assert.Equal(Lib + ":/opt/libhook.so", NativeAllocator.RestartPreload("/opt/libhook.so", null, Lib));
        Assert.Equal(Lib + ":/a.so:/b.so", NativeAllocator.RestartPreload("/a.so /b.so", "", Lib));
    }

    [Fact]
    public void Does_not_restart_when_preloaded_opted_out_or_not_installed()
    {
        Assert.Null(NativeAllocator.RestartPreload(Lib, null, Lib));
        Assert.Null(NativeAllocator.RestartPreload("/x/libjemalloc.so.2", null, Lib));
        Assert.Null(NativeAllocator.RestartPreload(null, "system", Lib));
        Assert.Null(NativeAllocator.RestartPreload(null, "SYSTEM", Lib));
        Assert.Null(NativeAllocator.RestartPreload(null, null, null));
    }

    [Fact]
    public void Active_matches_the_libraries_mapped_into_this_process()
    {
        bool mapped = File.ReadAllText("/proc/self/maps").Contains("libtcmalloc_minimal");
        Assert.Equal(mapped, NativeAllocator.Active);
        Assert.Contains(mapped ? "tcmalloc" : "glibc malloc", NativeAllocator.Describe());
    }

    [Theory]
    [InlineData("--api-key", "s3cret")]
    [InlineData("--api-key=s3cret", null)]
    public void Secret_options_leave_the_command_line_for_the_environment(string option, string? value)
    {
        static List<byte[]> Bytes(params string[] s) => s.Select(System.Text.Encoding.UTF8.GetBytes).ToList();
        var argv = Bytes(value is null ? ["spinexr", "serve", option, "--urls", "http://127.0.0.1:0"] : ["spinexr", "serve", option, value, "--urls", "http://127.0.0.1:0"]);
        var env = Bytes("HOME=/root", "SPINEXR_API_KEY=old");
        var (newArgv, newEnv) = NativeAllocator.MoveSecrets(argv, env, new Dictionary<string, string> { ["--api-key"] = "SPINEXR_API_KEY" });
        var args = newArgv.Select(System.Text.Encoding.UTF8.GetString).ToList();
        var vars = newEnv.Select(System.Text.Encoding.UTF8.GetString).ToList();
        Assert.Equal(["spinexr", "serve", "--urls", "http://127.0.0.1:0"], args);
        Assert.DoesNotContain(args, a => a.Contains("s3cret"));
        Assert.Equal(["HOME=/root", "SPINEXR_API_KEY=s3cret"], vars);
    }
}
