using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// Decodes frames in helper processes, so that a native decoder that aborts or loops on corrupt data fails one frame
/// with a <see cref="DicomException"/> (after <see cref="DecodeOptions.Timeout"/> for a loop) instead of ending or
/// stalling the application. The case it exists for: Debian 12's OpenJPEG 2.5.0 keeps <c>assert()</c> live in its
/// HTJ2K block decoder (ht_dec.c), and a corrupt HT code block calls abort(), which no managed handler can catch.
/// Classic JPEG 2000 and the C# codecs fail with errors and stay in process.
/// <para>
/// A host is a program whose Main calls <see cref="RunIfRequested"/> first. An application hands one to the decoders
/// through <see cref="DecodeOptions.Host"/>; one that marks its assembly with <see cref="DecodeHostEntryPointAttribute"/>
/// (spinexr does) gets itself as the host of <see cref="DecodeOptions.Default"/>. Host processes are started on demand,
/// one per concurrent decode, kept for reuse, and end when their standard input closes (so they never outlive the
/// application).
/// </para>
/// </summary>
public sealed class DecodeHost : IDisposable
{
    /// <summary>The argument that makes <see cref="RunIfRequested"/> serve decodes on standard input/output.</summary>
    public const string Argument = "--spinexr-decode-host";

    private const int Magic = 0x31445853; // "SXD1"
    private readonly ConcurrentBag<HostProcess> _idle = [];
    private readonly ProcessStartInfo _command;

    /// <param name="command">How to start a host process (its arguments must include <see cref="Argument"/>).</param>
    public DecodeHost(ProcessStartInfo command) => _command = command;

    /// <summary>The program that is started for each host process.</summary>
    public string FileName => _command.FileName;

    /// <summary>
    /// This executable as a host (its own path when it runs through an apphost, <c>dotnet exec ENTRY.dll</c> through
    /// the dotnet muxer), or null when the process path is unknown.
    /// </summary>
    public static DecodeHost? ForCurrentExecutable()
    {
        string? process = Environment.ProcessPath;
        string? entry = Assembly.GetEntryAssembly()?.Location;
        if (process is null) return null;
        bool muxer = Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        if (muxer && string.IsNullOrEmpty(entry)) return null;
        var psi = new ProcessStartInfo(process);
        if (muxer)
        {
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(entry!);
        }
        psi.ArgumentList.Add(Argument);
        return new DecodeHost(psi);
    }

    /// <summary>Ends the idle host processes (busy ones end when their decode returns and finds the host disposed).</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var h)) h.Dispose();
    }

    private volatile bool _disposed;

    /// <summary>
    /// When <paramref name="args"/> is exactly [<see cref="Argument"/>], serves decode requests on standard input until
    /// it closes and returns true (Main should then return); otherwise returns false at once.
    /// </summary>
    public static bool RunIfRequested(string[] args)
    {
        if (args.Length != 1 || args[0] != Argument) return false;
        Serve(Console.OpenStandardInput(), Console.OpenStandardOutput());
        return true;
    }

    /// <summary>The host loop: one request in, one reply out, until the input ends.</summary>
    internal static void Serve(Stream input, Stream output)
    {
        using var reader = new BinaryReader(input, Encoding.UTF8, leaveOpen: true);
        using var writer = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        while (true)
        {
            int magic;
            try
            {
                magic = reader.ReadInt32();
            }
            catch (EndOfStreamException)
            {
                return;
            }
            if (magic != Magic) return;
            var (frame, format, syntax, reduction) = ReadRequest(reader);
            try
            {
                var decoded = syntax is JpegLsCodec.Lossless or JpegLsCodec.NearLossless
                    ? JpegLsCodec.DecodeInProcess(frame, format)
                    : Jpeg2000Codec.DecodeInProcess(frame, format, threads: 1, reduction);
                writer.Write((byte)0);
                writer.Write(decoded.Photometric);
                writer.Write(decoded.Data.Length);
                writer.Write(decoded.Data);
            }
            catch (DicomException e)
            {
                writer.Write((byte)1);
                writer.Write(e.Message);
            }
            writer.Flush();
        }
    }

    /// <summary>One decode request: magic, transfer syntax, JPEG 2000 reduction, pixel format, frame length and bytes.</summary>
    internal static void WriteRequest(BinaryWriter w, ReadOnlySpan<byte> frame, PixelFormat f, string syntax, int reduction = 0)
    {
        w.Write(Magic);
        w.Write(syntax);
        w.Write(reduction);
        foreach (int v in (ReadOnlySpan<int>)[f.Rows, f.Columns, f.SamplesPerPixel, f.BitsAllocated, f.BitsStored, f.PixelRepresentation]) w.Write(v);
        w.Write(f.Photometric);
        w.Write(f.PlanarConfiguration);
        w.Write(frame.Length);
        w.Write(frame);
    }

    // The rest of a request after its magic, as WriteRequest wrote it.
    private static (byte[] Frame, PixelFormat Format, string Syntax, int Reduction) ReadRequest(BinaryReader r)
    {
        string syntax = r.ReadString();
        int reduction = r.ReadInt32();
        var format = new PixelFormat(r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(),
            r.ReadInt32(), r.ReadInt32(), r.ReadString(), r.ReadInt32());
        return (r.ReadBytes(r.ReadInt32()), format, syntax, reduction);
    }

    /// <summary>
    /// Decodes one JPEG 2000 (at <paramref name="reduction"/> levels below full size) or JPEG-LS frame in a host
    /// process; a host that dies or takes longer than <paramref name="timeout"/> becomes a <see cref="DicomException"/>.
    /// </summary>
    internal DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, string who, TimeSpan timeout, int reduction = 0)
    {
        HostProcess? host = null;
        while (host is null && _idle.TryTake(out var idle))
        {
            if (idle.HasExited) idle.Dispose();
            else host = idle;
        }
        host ??= HostProcess.Start(_command, who);
        try
        {
            return host.Decode(frame, format, transferSyntax, who, reduction, timeout);
        }
        finally
        {
            // A decode error leaves the host healthy; one that died or hung is not reused.
            if (host.Healthy && !_disposed) _idle.Add(host);
            else host.Dispose();
        }
    }

    private sealed class HostProcess : IDisposable
    {
        private readonly Process _process;
        private readonly BinaryWriter _writer;
        private readonly BinaryReader _reader;
        private readonly StringBuilder _stderr = new();

        private HostProcess(Process process)
        {
            _process = process;
            _writer = new BinaryWriter(process.StandardInput.BaseStream, Encoding.UTF8, leaveOpen: true);
            _reader = new BinaryReader(process.StandardOutput.BaseStream, Encoding.UTF8, leaveOpen: true);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_stderr)
                {
                    if (_stderr.Length < 4096) _stderr.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
        }

        public bool HasExited => _process.HasExited;

        /// <summary>False once a decode has killed the host or timed out.</summary>
        public bool Healthy { get; private set; } = true;

        public static HostProcess Start(ProcessStartInfo command, string who)
        {
            var psi = new ProcessStartInfo(command.FileName)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in command.ArgumentList) psi.ArgumentList.Add(a);
            foreach (var (k, v) in command.Environment) psi.Environment[k] = v;
            try
            {
                return new HostProcess(Process.Start(psi) ?? throw new DicomException($"{who}: could not start the decode host"));
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new DicomException($"{who}: could not start the decode host {command.FileName} ({e.Message})");
            }
        }

        public DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string syntax, string who, int reduction, TimeSpan timeout)
        {
            byte[] data = frame.ToArray();
            var exchange = Task.Run(() =>
            {
                WriteRequest(_writer, data, format, syntax, reduction);
                _writer.Flush();
                byte status = _reader.ReadByte();
                if (status == 1) throw new DicomException(_reader.ReadString());
                string photometric = _reader.ReadString();
                int length = _reader.ReadInt32();
                byte[] pixels = _reader.ReadBytes(length);
                if (pixels.Length != length) throw new EndOfStreamException();
                return new DecodedFrame(pixels, photometric);
            });
            try
            {
                if (!exchange.Wait(timeout))
                {
                    Healthy = false;
                    throw new DicomException($"{who}: the decoder took more than {timeout.TotalSeconds:F0} s; stopped");
                }
                return exchange.Result;
            }
            catch (AggregateException e) when (e.InnerException is DicomException d)
            {
                throw d;
            }
            catch (AggregateException e) when (e.InnerException is IOException or EndOfStreamException)
            {
                // The host died mid-decode: the native decoder aborted on this stream. Name what it printed.
                Healthy = false;
                // The timed wait does not wait for the redirected stderr to drain; after it succeeds the untimed one does
                // (the process has exited, so it returns once the last line has been read).
                if (_process.WaitForExit(2000)) _process.WaitForExit();
                string reason;
                lock (_stderr) reason = _stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
                string exit = _process.HasExited ? $"exit code {_process.ExitCode}" : "no reply";
                throw new DicomException($"{who}: the decoder aborted on a corrupt code stream ({exit}{(reason.Length > 0 ? ": " + Shorten(reason) : "")})");
            }
        }

        // "opj_decompress: ./src/lib/openjp2/ht_dec.c:319: mel_init: Assertion `...' failed." -> from the source file on
        private static string Shorten(string line)
        {
            int at = line.IndexOf("./src/", StringComparison.Ordinal);
            return at >= 0 ? line[(at + 2)..] : line;
        }

        public void Dispose()
        {
            try
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(1000)) _process.Kill();
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
            _process.Dispose();
        }
    }
}
