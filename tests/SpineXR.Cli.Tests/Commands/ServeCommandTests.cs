using SpineXR.Cli.Commands;

namespace SpineXR.Cli.Tests.Commands;

/// <summary>`spinexr serve` argument handling (the server itself is tested in SpineXR.Web.Tests).</summary>
public sealed class ServeCommandTests
{
    private static string RunDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "spinexr-serve-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Theory]
    [InlineData("--detector", "{dir}", "--classifier is required")]
    [InlineData("--classifier", "{dir}", "--detector is required")]
    public void Missing_models_are_usage_errors(string flag, string value, string message)
    {
        string dir = RunDir();
        try
        {
            var e = Assert.Throws<UsageException>(() => Program.Run(["serve", flag, value.Replace("{dir}", dir)]));
            Assert.Contains(message, e.Message);
        }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void Missing_run_directory_and_bad_options_are_named()
    {
        string dir = RunDir();
        try
        {
            var e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir + ",/nonexistent/run"]));
            Assert.Contains("/nonexistent/run", e.Message);
            e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--max-upload-mb", "0"]));
            Assert.StartsWith("--max-upload-mb", e.Message);
            e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--urls", "ftp://x"]));
            Assert.StartsWith("--urls", e.Message);
            e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--dicomweb-destination", "ftp://pacs/dicom-web"]));
            Assert.StartsWith("--dicomweb-destination", e.Message);
            e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--dicomweb-destination", "pacs"]));
            Assert.StartsWith("--dicomweb-destination", e.Message);
            e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--backend", "trt"]));
            Assert.Equal("--backend: unknown backend 'trt' (libtorch, onnx)", e.Message);
            e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--device", "cuda"]));
            Assert.StartsWith("--device: the libtorch backend runs on the CPU only", e.Message);
        }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void A_run_directory_without_a_model_fails_naming_the_run()
    {
        string dir = RunDir();
        try
        {
            var e = Assert.ThrowsAny<Exception>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--urls", "http://127.0.0.1:0"]));
            Assert.IsNotType<UsageException>(e);
            Assert.Contains(dir, Program.OneLine(e));
        }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void Help_lists_the_api()
    {
        var help = new ServeCommand().Help;
        Assert.Contains("POST /api/v1/predict", help);
        Assert.Contains("--api-key", help);
        Assert.Contains("POST /dicomweb/studies", help);
        Assert.Contains("--dicomweb-destination", help);
    }

    [Fact]
    public void A_non_loopback_address_without_a_key_and_https_are_refused_in_one_line()
    {
        string dir = RunDir();
        try
        {
            var e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--urls", "http://0.0.0.0:5080"]));
            Assert.StartsWith("--urls", e.Message);
            Assert.Contains("key", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            e = Assert.Throws<UsageException>(() => Program.Run(["serve", "--classifier", dir, "--detector", dir, "--urls", "https://127.0.0.1:5443"]));
            Assert.Contains("TLS proxy", e.Message);
        }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void The_key_comes_from_a_file_and_leaves_the_environment()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "file-key\n");
            Environment.SetEnvironmentVariable(ServeCommand.KeyVariable, "env-key");
            Assert.Equal("file-key", ServeCommand.ResolveKey(null, file));
            // Helper processes (the decode host) inherit this process's environment: the key must not be in it.
            Assert.Null(Environment.GetEnvironmentVariable(ServeCommand.KeyVariable));

            Environment.SetEnvironmentVariable(ServeCommand.KeyVariable, "env-key");
            Assert.Equal("env-key", ServeCommand.ResolveKey(null, null));
            Assert.Null(Environment.GetEnvironmentVariable(ServeCommand.KeyVariable));

            File.WriteAllText(file, "\n");
            Assert.Throws<UsageException>(() => ServeCommand.ResolveKey(null, file));
            Assert.Throws<UsageException>(() => ServeCommand.ResolveKey(null, file + ".missing"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ServeCommand.KeyVariable, null);
            File.Delete(file);
        }
    }
}
