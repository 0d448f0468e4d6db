using System.Diagnostics;
using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Cli.Tests;

/// <summary>
/// HTJ2K decoding in a helper process (`spinexr --spinexr-decode-host`): OpenJPEG 2.5.0 calls abort() on the corrupt
/// fixture (tools/make_htj2k_abort_fixture.py), and the application sees one DicomException and carries on.
/// Each test hands its own host and deadline to the decodes it makes (DecodeOptions), so tests running beside them
/// decode as they would alone (when the host and deadline were process-wide, one met another's stuck helper in CI).
/// </summary>
public sealed class DecodeHostProcessTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly PixelFormat Format = new(37, 45, 1, 16, 12, 0, "MONOCHROME2");
    private static readonly DecodeOptions InProcessOnly = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-decodehost-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly DecodeHost _host;

    /// <summary>HTJ2K to `spinexr --spinexr-decode-host` (this build's SpineXR.Cli.dll), the rest in process.</summary>
    private readonly DecodeOptions _hosted;

    public DecodeHostProcessTests()
    {
        Directory.CreateDirectory(_dir);
        var psi = new ProcessStartInfo("dotnet");
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SpineXR.Cli.dll"));
        psi.ArgumentList.Add(DecodeHost.Argument);
        _host = new DecodeHost(psi);
        _hosted = new DecodeOptions { Host = _host };
    }

    public void Dispose()
    {
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static byte[] Stream(string name) => File.ReadAllBytes(Path.Combine(Fixtures, name));

    // The good fixture decoded in this process, for comparison.
    private static byte[] InProcess(byte[] stream) =>
        CodecRegistry.Find(Jpeg2000Codec.HtLossless)!.Decode(stream, Format, Jpeg2000Codec.HtLossless, InProcessOnly).Data;

    [Fact]
    public void The_default_options_of_a_program_not_marked_as_a_host_decode_in_process()
    {
        // The test runner's entry assembly carries no DecodeHostEntryPoint; spinexr's does.
        Assert.Null(DecodeOptions.Default.Host);
        Assert.NotNull(typeof(Program).Assembly.GetCustomAttributes(typeof(DecodeHostEntryPointAttribute), false).SingleOrDefault());
    }

    [Fact]
    public void An_abort_in_the_decoder_becomes_one_error_and_the_next_frame_decodes()
    {
        var codec = CodecRegistry.Find(Jpeg2000Codec.HtLossless)!;
        byte[] expected = InProcess(Stream("htj2k_m12.bin"));

        Assert.Equal(expected, codec.Decode(Stream("htj2k_m12.bin"), Format, Jpeg2000Codec.HtLossless, _hosted).Data);
        var e = Assert.Throws<DicomException>(() => codec.Decode(Stream("htj2k_m12_abort.bin"), Format, Jpeg2000Codec.HtLossless, _hosted));
        Assert.Contains("aborted on a corrupt code stream", e.Message);
        Assert.Contains("ht_dec.c", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // a mislabelled stream (HT code blocks under the classic syntax) is recognised by its CAP marker
        Assert.Throws<DicomException>(() => codec.Decode(Stream("htj2k_m12_abort.bin"), Format, Jpeg2000Codec.Lossless, _hosted));
        Assert.Equal(expected, codec.Decode(Stream("htj2k_m12.bin"), Format, Jpeg2000Codec.HtLossless, _hosted).Data);
    }

    [Fact]
    public void Parallel_decodes_share_the_hosts()
    {
        var codec = CodecRegistry.Find(Jpeg2000Codec.HtLossless)!;
        byte[] good = Stream("htj2k_m12.bin"), bad = Stream("htj2k_m12_abort.bin");
        byte[] expected = InProcess(good);
        var outcomes = new string[16];
        Parallel.For(0, outcomes.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            try
            {
                outcomes[i] = codec.Decode(i % 4 == 3 ? bad : good, Format, Jpeg2000Codec.HtLossless, _hosted).Data.SequenceEqual(expected) ? "same" : "different";
            }
            catch (DicomException)
            {
                outcomes[i] = "error";
            }
        });
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i % 4 == 3 ? "error" : "same"), outcomes);
    }

    [Fact]
    public void Mutated_HT_streams_only_throw_DicomException()
    {
        // The mutation test the in-process codecs get (CodecRobustnessTests), for the streams that can abort OpenJPEG.
        var codec = CodecRegistry.Find(Jpeg2000Codec.HtLossless)!;
        byte[] original = Stream("htj2k_m12.bin");
        int sod = original.AsSpan().IndexOf([(byte)0xFF, (byte)0x93]);
        var rng = new Random(15);
        int decoded = 0, failed = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < 150; i++)
        {
            var sw = Stopwatch.StartNew();
            byte[] m = (byte[])original.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) m[rng.Next(sod + 2, m.Length - 2)] = rng.Next(3) == 0 ? (byte)0xFF : (byte)rng.Next(256);
            try
            {
                Assert.Equal(Format.FrameBytes, codec.Decode(m, Format, Jpeg2000Codec.HtLossless, _hosted).Data.Length);
                decoded++;
            }
            catch (DicomException)
            {
                failed++;
            }
            if (sw.Elapsed > slowest) slowest = sw.Elapsed;
        }
        Assert.Equal(150, decoded + failed);
        // Corrupt code blocks must be caught somewhere (OpenJPEG's checks or an abort in the host), and none may hang.
        Assert.True(failed > 0, $"all 150 mutated streams decoded ({decoded}); the test no longer reaches the decoder's checks");
        Assert.True(slowest < TimeSpan.FromSeconds(10), $"one decode took {slowest.TotalSeconds:0.0} s");
    }

    private sealed class FixedStream(byte[] stream) : IPixelEncoder
    {
        public string TransferSyntax => Jpeg2000Codec.HtLossless;
        public byte[] Encode(ReadOnlySpan<byte> frame, PixelFormat format) => stream;
    }

    [Fact]
    public void Convert_reports_the_aborting_file_and_converts_the_rest()
    {
        string input = Path.Combine(_dir, "in");
        Directory.CreateDirectory(input);
        var header = new GrayscaleImageHeader { Rows = 37, Columns = 45, UidSeed = "ht" };
        var pixels = new ushort[37 * 45];
        DicomImageWriter.Save(Path.Combine(input, "good.dcm"), header, pixels, new FixedStream(Stream("htj2k_m12.bin")));
        DicomImageWriter.Save(Path.Combine(input, "bad.dcm"), header with { UidSeed = "bad" }, pixels, new FixedStream(Stream("htj2k_m12_abort.bin")));
        string output = Path.Combine(_dir, "out");

        Assert.Equal(ExitCodes.SomeFailed, Program.Run(["dicom", "convert", input, "--out", output, "--workers", "2"], new CliServices { Decode = _hosted }));

        Assert.Equal(["convert_log.csv", "good.png"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var log = File.ReadAllLines(Path.Combine(output, "convert_log.csv"));
        Assert.Contains(log, l => l.StartsWith(Path.Combine(input, "bad.dcm") + ",failed,", StringComparison.Ordinal) && l.Contains("aborted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_spinexr_process_decodes_HTJ2K_in_its_own_host_by_default()
    {
        // No options handed in: spinexr's DecodeOptions.Default starts spinexr itself as the host, so the aborting
        // stream fails one file and the process lives to write the log.
        string input = Path.Combine(_dir, "in-default");
        Directory.CreateDirectory(input);
        var header = new GrayscaleImageHeader { Rows = 37, Columns = 45, UidSeed = "ht-default" };
        DicomImageWriter.Save(Path.Combine(input, "bad.dcm"), header, new ushort[37 * 45], new FixedStream(Stream("htj2k_m12_abort.bin")));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "SpineXR.Cli.dll"), "dicom", "convert", input, "--out", Path.Combine(_dir, "out-default") })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = await p.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(deadline.Token);
        Assert.True(p.ExitCode == ExitCodes.SomeFailed, $"exit {p.ExitCode}: {await stderr}{stdout}");
        Assert.Contains("aborted", File.ReadAllText(Path.Combine(_dir, "out-default", "convert_log.csv")));
    }

    [Theory]
    [InlineData("j2k_m12.bin", Jpeg2000Codec.Lossless)]
    [InlineData("jls_m12.bin", JpegLsCodec.Lossless)]
    public void With_every_external_codec_isolated_classic_jpeg2000_and_jpeg_ls_decode_in_the_host_alike(string stream, string syntax)
    {
        var codec = CodecRegistry.Find(syntax)!;
        byte[] expected = codec.Decode(Stream(stream), Format, syntax, InProcessOnly).Data;
        var isolated = _hosted with { IsolateAllExternalCodecs = true };
        Assert.Equal(expected, codec.Decode(Stream(stream), Format, syntax, isolated).Data);
        if (codec is Jpeg2000Codec j2k)
        {
            var (inProcess, _) = j2k.DecodeReduced(Stream(stream), Format, syntax, 1, _hosted);
            var (hosted, format) = j2k.DecodeReduced(Stream(stream), Format, syntax, 1, isolated);
            Assert.Equal(inProcess.Data, hosted.Data);
            Assert.Equal((19, 23), (format.Rows, format.Columns));
        }
    }

    [Theory]
    [InlineData("j2k_m12.bin", Jpeg2000Codec.Lossless)]
    [InlineData("jls_m12.bin", JpegLsCodec.Lossless)]
    public void A_decode_that_never_returns_is_stopped_at_the_deadline(string stream, string syntax)
    {
        // A host that reads nothing and never answers stands in for a decoder caught in an endless loop
        // (OpenJPEG 2.5.0, CVE-2023-39327): the decode must end at the deadline with one error.
        using var stuck = new DecodeHost(new ProcessStartInfo("sleep") { ArgumentList = { "60" } });
        var options = new DecodeOptions { Host = stuck, IsolateAllExternalCodecs = true, Timeout = TimeSpan.FromSeconds(1) };
        var codec = CodecRegistry.Find(syntax)!;
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<DicomException>(() => codec.Decode(Stream(stream), Format, syntax, options));
        Assert.Contains("took more than 1 s; stopped", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"stopped after {sw.Elapsed.TotalSeconds:0.0} s");
        // Isolation off: classic JPEG 2000 and JPEG-LS decode in process and never meet the stuck host.
        Assert.Equal(Format.FrameBytes, codec.Decode(Stream(stream), Format, syntax, options with { IsolateAllExternalCodecs = false }).Data.Length);
    }
}
