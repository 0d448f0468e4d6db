using System.Runtime.InteropServices;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// Loads a native codec library (a Debian package's shared object) by trying a list of names, and resolves its
/// exports. When none loads, every use throws one <see cref="DicomException"/> line naming the package to install.
/// </summary>
internal sealed class NativeCodecLibrary
{
    private readonly Lazy<nint> handle;

    public NativeCodecLibrary(string what, string package, params string[] names)
    {
        What = what;
        Package = package;
        Names = names;
        handle = new Lazy<nint>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>What needs the library ("JPEG 2000").</summary>
    public string What { get; }

    /// <summary>The Debian package that provides it ("libopenjp2-7").</summary>
    public string Package { get; }

    /// <summary>File names tried in order; the first is the one named in the error.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The loaded library handle; throws <see cref="DicomException"/> naming the package when it is missing.</summary>
    public nint Handle => handle.Value;

    /// <summary>The address of an exported function; a missing export means a wrong library version.</summary>
    public nint Export(string name)
    {
        if (NativeLibrary.TryGetExport(Handle, name, out nint address)) return address;
        throw new DicomException($"{What}: {Names[0]} has no function {name} (wrong version? apt-get install {Package})");
    }

    private nint Load()
    {
        foreach (string name in Names)
        {
            if (NativeLibrary.TryLoad(name, out nint h)) return h;
        }
        throw new DicomException($"{What} needs {Names[0]}: apt-get install {Package}");
    }
}
