using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// P/Invoke surface of OpenJPEG 2.5 (Debian's libopenjp2-7): the functions, the structure offsets (x86-64 / LP64,
/// checked against openjpeg.h 2.5.0) and memory-stream callbacks. Only what the JPEG 2000 decoder and the
/// lossless encoder use.
/// </summary>
internal static unsafe class OpenJpeg
{
    public static readonly NativeCodecLibrary Library =
        new("JPEG 2000", "libopenjp2-7", "libopenjp2.so.7", "libopenjp2.so", "openjp2", "libopenjp2.dylib");

    public const int CodecJ2K = 0;
    public const int CodecJP2 = 2;
    public const int ColorSpaceGray = 2;
    public const int ColorSpaceSrgb = 1;

    // opj_image_t (48 bytes): x0, y0, x1, y1, numcomps, color_space, comps*, icc_profile_buf*, icc_profile_len.
    [StructLayout(LayoutKind.Sequential)]
    public struct Image
    {
        public uint X0, Y0, X1, Y1, NumComps;
        public int ColorSpace;
        public ImageComp* Comps;
        public byte* IccProfile;
        public uint IccProfileLength;
    }

    // opj_image_comp_t (64 bytes).
    [StructLayout(LayoutKind.Sequential)]
    public struct ImageComp
    {
        public uint Dx, Dy, W, H, X0, Y0, Prec, Bpp, Sgnd, ResnoDecoded, Factor;
        public int* Data;
        public ushort Alpha;
    }

    // opj_image_cmptparm_t (36 bytes).
    [StructLayout(LayoutKind.Sequential)]
    public struct ComponentParameters
    {
        public uint Dx, Dy, W, H, X0, Y0, Prec, Bpp, Sgnd;
    }

    // opj_dparameters_t is 8252 bytes and opj_cparameters_t 18720; we let the library fill the defaults into
    // zeroed blocks of at least that size and patch the few fields we set at their offsets.
    public const int DecoderParametersSize = 8252;
    public const int EncoderParametersSize = 18720;
    public const int EncCpDistoAlloc = 20;
    public const int EncTcpNumLayers = 4796;
    public const int EncTcpRates = 4800;
    public const int EncNumResolution = 5600;
    public const int EncIrreversible = 5616;
    public const int EncTcpMct = 18698;

    private static readonly Lazy<Api> api = new(() => new Api(Library), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The resolved functions; throws <see cref="DicomException"/> naming the package when the library is missing.</summary>
    public static Api Functions => api.Value;

    /// <summary>Loads the library and resolves every function (for `spinexr doctor`); returns the library version.</summary>
    public static string EnsureLoaded() => Marshal.PtrToStringUTF8((nint)Functions.Version()) ?? "?";

    public sealed class Api
    {
        public readonly delegate* unmanaged<sbyte*> Version;
        public readonly delegate* unmanaged<int, void*> CreateDecompress;
        public readonly delegate* unmanaged<int, void*> CreateCompress;
        public readonly delegate* unmanaged<void*, void> DestroyCodec;
        public readonly delegate* unmanaged<void*, void> SetDefaultDecoderParameters;
        public readonly delegate* unmanaged<void*, void> SetDefaultEncoderParameters;
        public readonly delegate* unmanaged<void*, void*, int> SetupDecoder;
        public readonly delegate* unmanaged<void*, void*, Image*, int> SetupEncoder;
        public readonly delegate* unmanaged<void*, int, int> CodecSetThreads;
        public readonly delegate* unmanaged<void*, delegate* unmanaged<sbyte*, void*, void>, void*, int> SetErrorHandler;
        public readonly delegate* unmanaged<void*, delegate* unmanaged<sbyte*, void*, void>, void*, int> SetWarningHandler;
        public readonly delegate* unmanaged<nuint, int, void*> StreamCreate;
        public readonly delegate* unmanaged<void*, void> StreamDestroy;
        public readonly delegate* unmanaged<void*, delegate* unmanaged<void*, nuint, void*, nuint>, void> StreamSetRead;
        public readonly delegate* unmanaged<void*, delegate* unmanaged<void*, nuint, void*, nuint>, void> StreamSetWrite;
        public readonly delegate* unmanaged<void*, delegate* unmanaged<long, void*, long>, void> StreamSetSkip;
        public readonly delegate* unmanaged<void*, delegate* unmanaged<long, void*, int>, void> StreamSetSeek;
        public readonly delegate* unmanaged<void*, void*, void*, void> StreamSetUserData;
        public readonly delegate* unmanaged<void*, ulong, void> StreamSetUserDataLength;
        public readonly delegate* unmanaged<void*, void*, Image**, int> ReadHeader;
        public readonly delegate* unmanaged<void*, void*, Image*, int> Decode;
        public readonly delegate* unmanaged<void*, void*, int> EndDecompress;
        public readonly delegate* unmanaged<uint, ComponentParameters*, int, Image*> ImageCreate;
        public readonly delegate* unmanaged<Image*, void> ImageDestroy;
        public readonly delegate* unmanaged<void*, Image*, void*, int> StartCompress;
        public readonly delegate* unmanaged<void*, void*, int> Encode;
        public readonly delegate* unmanaged<void*, void*, int> EndCompress;

        public Api(NativeCodecLibrary lib)
        {
            Version = (delegate* unmanaged<sbyte*>)lib.Export("opj_version");
            CreateDecompress = (delegate* unmanaged<int, void*>)lib.Export("opj_create_decompress");
            CreateCompress = (delegate* unmanaged<int, void*>)lib.Export("opj_create_compress");
            DestroyCodec = (delegate* unmanaged<void*, void>)lib.Export("opj_destroy_codec");
            SetDefaultDecoderParameters = (delegate* unmanaged<void*, void>)lib.Export("opj_set_default_decoder_parameters");
            SetDefaultEncoderParameters = (delegate* unmanaged<void*, void>)lib.Export("opj_set_default_encoder_parameters");
            SetupDecoder = (delegate* unmanaged<void*, void*, int>)lib.Export("opj_setup_decoder");
            SetupEncoder = (delegate* unmanaged<void*, void*, Image*, int>)lib.Export("opj_setup_encoder");
            CodecSetThreads = (delegate* unmanaged<void*, int, int>)lib.Export("opj_codec_set_threads");
            SetErrorHandler = (delegate* unmanaged<void*, delegate* unmanaged<sbyte*, void*, void>, void*, int>)lib.Export("opj_set_error_handler");
            SetWarningHandler = (delegate* unmanaged<void*, delegate* unmanaged<sbyte*, void*, void>, void*, int>)lib.Export("opj_set_warning_handler");
            StreamCreate = (delegate* unmanaged<nuint, int, void*>)lib.Export("opj_stream_create");
            StreamDestroy = (delegate* unmanaged<void*, void>)lib.Export("opj_stream_destroy");
            StreamSetRead = (delegate* unmanaged<void*, delegate* unmanaged<void*, nuint, void*, nuint>, void>)lib.Export("opj_stream_set_read_function");
            StreamSetWrite = (delegate* unmanaged<void*, delegate* unmanaged<void*, nuint, void*, nuint>, void>)lib.Export("opj_stream_set_write_function");
            StreamSetSkip = (delegate* unmanaged<void*, delegate* unmanaged<long, void*, long>, void>)lib.Export("opj_stream_set_skip_function");
            StreamSetSeek = (delegate* unmanaged<void*, delegate* unmanaged<long, void*, int>, void>)lib.Export("opj_stream_set_seek_function");
            StreamSetUserData = (delegate* unmanaged<void*, void*, void*, void>)lib.Export("opj_stream_set_user_data");
            StreamSetUserDataLength = (delegate* unmanaged<void*, ulong, void>)lib.Export("opj_stream_set_user_data_length");
            ReadHeader = (delegate* unmanaged<void*, void*, Image**, int>)lib.Export("opj_read_header");
            Decode = (delegate* unmanaged<void*, void*, Image*, int>)lib.Export("opj_decode");
            EndDecompress = (delegate* unmanaged<void*, void*, int>)lib.Export("opj_end_decompress");
            ImageCreate = (delegate* unmanaged<uint, ComponentParameters*, int, Image*>)lib.Export("opj_image_create");
            ImageDestroy = (delegate* unmanaged<Image*, void>)lib.Export("opj_image_destroy");
            StartCompress = (delegate* unmanaged<void*, Image*, void*, int>)lib.Export("opj_start_compress");
            Encode = (delegate* unmanaged<void*, void*, int>)lib.Export("opj_encode");
            EndCompress = (delegate* unmanaged<void*, void*, int>)lib.Export("opj_end_compress");
        }
    }

    /// <summary>A read-only view of pinned memory the decoder pulls from. Lives on the caller's stack during one call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MemorySource
    {
        public byte* Data;
        public long Length;
        public long Position;
    }

    /// <summary>Collects the library's error messages for one call (passed as client data through a GCHandle).</summary>
    public sealed class MessageLog
    {
        private readonly StringBuilder errors = new();
        public void Add(string message)
        {
            if (errors.Length > 2000) return;
            if (errors.Length > 0) errors.Append("; ");
            errors.Append(message.Trim());
        }
        public string Text => errors.Length == 0 ? "no reason given" : errors.ToString();
    }

    /// <summary>Growable output for the encoder (client data through a GCHandle).</summary>
    public sealed class MemorySink
    {
        public byte[] Buffer = new byte[1 << 16];
        public long Length;
        public long Position;
    }

    [UnmanagedCallersOnly]
    public static nuint ReadFromMemory(void* buffer, nuint count, void* userData)
    {
        var src = (MemorySource*)userData;
        long left = src->Length - src->Position;
        if (left <= 0) return unchecked((nuint)(-1));
        long n = count > (nuint)left ? left : (long)count;
        Buffer.MemoryCopy(src->Data + src->Position, buffer, n, n);
        src->Position += n;
        return (nuint)n;
    }

    [UnmanagedCallersOnly]
    public static long SkipInMemory(long count, void* userData)
    {
        var src = (MemorySource*)userData;
        // OpenJPEG treats a skip past the end as the end of the stream, so clamp like its file stream does.
        long target = Math.Clamp(src->Position + count, 0, src->Length);
        long skipped = target - src->Position;
        src->Position = target;
        return skipped;
    }

    [UnmanagedCallersOnly]
    public static int SeekInMemory(long offset, void* userData)
    {
        var src = (MemorySource*)userData;
        if (offset < 0 || offset > src->Length) return 0;
        src->Position = offset;
        return 1;
    }

    [UnmanagedCallersOnly]
    public static nuint WriteToSink(void* buffer, nuint count, void* userData)
    {
        if (GCHandle.FromIntPtr((nint)userData).Target is not MemorySink sink || count > int.MaxValue) return unchecked((nuint)(-1));
        long end = sink.Position + (long)count;
        if (end > Array.MaxLength) return unchecked((nuint)(-1));
        if (end > sink.Buffer.Length) Array.Resize(ref sink.Buffer, (int)Math.Min(Array.MaxLength, Math.Max(end, 2L * sink.Buffer.Length)));
        new ReadOnlySpan<byte>(buffer, (int)count).CopyTo(sink.Buffer.AsSpan((int)sink.Position));
        sink.Position = end;
        sink.Length = Math.Max(sink.Length, end);
        return count;
    }

    [UnmanagedCallersOnly]
    public static long SkipInSink(long count, void* userData)
    {
        if (GCHandle.FromIntPtr((nint)userData).Target is not MemorySink sink) return -1;
        long target = sink.Position + count;
        if (target < 0 || target > sink.Length) return -1;
        sink.Position = target;
        return count;
    }

    [UnmanagedCallersOnly]
    public static int SeekInSink(long offset, void* userData)
    {
        if (GCHandle.FromIntPtr((nint)userData).Target is not MemorySink sink || offset < 0 || offset > sink.Length) return 0;
        sink.Position = offset;
        return 1;
    }

    [UnmanagedCallersOnly]
    public static void OnError(sbyte* message, void* clientData)
    {
        if (GCHandle.FromIntPtr((nint)clientData).Target is MessageLog log && message != null)
            log.Add(Marshal.PtrToStringUTF8((nint)message) ?? "");
    }

    [UnmanagedCallersOnly]
    public static void Ignore(sbyte* message, void* clientData) { }

    /// <summary>Routes a codec's errors into <paramref name="log"/> and silences its warnings (OpenJPEG prints them to stderr otherwise).</summary>
    public static void AttachLog(Api f, void* codec, GCHandle log)
    {
        f.SetErrorHandler(codec, &OnError, (void*)GCHandle.ToIntPtr(log));
        f.SetWarningHandler(codec, &Ignore, null);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteInt32(byte* block, int offset, int value) => *(int*)(block + offset) = value;
}
