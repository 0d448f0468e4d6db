using System.Runtime.InteropServices;

namespace SpineXR.Dicom.Codecs;

/// <summary>P/Invoke surface of CharLS 2.4 (Debian's libcharls2): the JPEG-LS decoder C API.</summary>
internal static unsafe class CharLs
{
    public static readonly NativeCodecLibrary Library =
        new("JPEG-LS", "libcharls2", "libcharls.so.2", "libcharls.so", "charls", "libcharls.dylib");

    public const int InterleaveNone = 0;

    [StructLayout(LayoutKind.Sequential)]
    public struct FrameInfo
    {
        public uint Width;
        public uint Height;
        public int BitsPerSample;
        public int ComponentCount;
    }

    private static readonly Lazy<Api> api = new(() => new Api(Library), LazyThreadSafetyMode.ExecutionAndPublication);

    public static Api Functions => api.Value;

    public static string EnsureLoaded() => Marshal.PtrToStringUTF8((nint)Functions.VersionString()) ?? "?";

    /// <summary>CharLS's message for an error code.</summary>
    public static string Message(int error) =>
        Marshal.PtrToStringUTF8((nint)Functions.ErrorMessage(error)) ?? $"error {error}";

    public sealed class Api
    {
        public readonly delegate* unmanaged<sbyte*> VersionString;
        public readonly delegate* unmanaged<int, sbyte*> ErrorMessage;
        public readonly delegate* unmanaged<void*> Create;
        public readonly delegate* unmanaged<void*, void> Destroy;
        public readonly delegate* unmanaged<void*, void*, nuint, int> SetSourceBuffer;
        public readonly delegate* unmanaged<void*, int> ReadHeader;
        public readonly delegate* unmanaged<void*, FrameInfo*, int> GetFrameInfo;
        public readonly delegate* unmanaged<void*, int*, int> GetInterleaveMode;
        public readonly delegate* unmanaged<void*, uint, nuint*, int> GetDestinationSize;
        public readonly delegate* unmanaged<void*, void*, nuint, uint, int> DecodeToBuffer;

        public Api(NativeCodecLibrary lib)
        {
            VersionString = (delegate* unmanaged<sbyte*>)lib.Export("charls_get_version_string");
            ErrorMessage = (delegate* unmanaged<int, sbyte*>)lib.Export("charls_get_error_message");
            Create = (delegate* unmanaged<void*>)lib.Export("charls_jpegls_decoder_create");
            Destroy = (delegate* unmanaged<void*, void>)lib.Export("charls_jpegls_decoder_destroy");
            SetSourceBuffer = (delegate* unmanaged<void*, void*, nuint, int>)lib.Export("charls_jpegls_decoder_set_source_buffer");
            ReadHeader = (delegate* unmanaged<void*, int>)lib.Export("charls_jpegls_decoder_read_header");
            GetFrameInfo = (delegate* unmanaged<void*, FrameInfo*, int>)lib.Export("charls_jpegls_decoder_get_frame_info");
            GetInterleaveMode = (delegate* unmanaged<void*, int*, int>)lib.Export("charls_jpegls_decoder_get_interleave_mode");
            GetDestinationSize = (delegate* unmanaged<void*, uint, nuint*, int>)lib.Export("charls_jpegls_decoder_get_destination_size");
            DecodeToBuffer = (delegate* unmanaged<void*, void*, nuint, uint, int>)lib.Export("charls_jpegls_decoder_decode_to_buffer");
        }
    }
}
