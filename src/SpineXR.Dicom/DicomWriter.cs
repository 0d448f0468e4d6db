// Writes explicit VR little endian Part 10 files (PS3.10 7.1): preamble, "DICM", File Meta group with its group
// length, then the dataset in tag order, values padded to even length, sequences and items of undefined length.
using System.Buffers.Binary;

namespace SpineXR.Dicom;

/// <summary>DICOM Part 10 writer (explicit VR little endian, native or encapsulated pixel data).</summary>
public static class DicomWriter
{
    /// <summary>
    /// Writes <paramref name="dataset"/> as a Part 10 file in <paramref name="transferSyntaxUid"/>: explicit VR little
    /// endian, or an encapsulated syntax (then Pixel Data must be encapsulated, see <see cref="EncapsulatedPixelData"/>).
    /// The meta header is built from the dataset's SOP Class and Instance UIDs.
    /// </summary>
    public static void Write(Stream stream, DicomDataset dataset, string transferSyntaxUid = TransferSyntax.ExplicitVRLittleEndianUid)
    {
        var ts = TransferSyntax.FromUid(transferSyntaxUid);
        if (!ts.ExplicitVR || !ts.LittleEndian || ts.Deflated)
            throw new ArgumentException($"the writer writes explicit VR little endian or encapsulated syntaxes, not {ts}", nameof(transferSyntaxUid));
        var pixel = dataset.GetElement(DicomTags.PixelData);
        if (pixel != null && pixel.IsEncapsulated != ts.Encapsulated)
            throw new ArgumentException(ts.Encapsulated
                ? $"{ts} needs encapsulated Pixel Data"
                : "encapsulated Pixel Data needs an encapsulated transfer syntax", nameof(transferSyntaxUid));
        string sopClass = dataset.GetString(DicomTags.SOPClassUID) ?? throw new DicomException("cannot write: SOP Class UID (0008,0016) is missing");
        string sopInstance = dataset.GetString(DicomTags.SOPInstanceUID) ?? throw new DicomException("cannot write: SOP Instance UID (0008,0018) is missing");

        var meta = new DicomDataset()
            .SetBytes(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 })
            .SetString(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, sopClass)
            .SetString(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, sopInstance)
            .SetString(DicomTags.TransferSyntaxUID, DicomVR.UI, ts.Uid)
            .SetString(DicomTags.ImplementationClassUID, DicomVR.UI, DicomUid.ImplementationClassUid)
            .SetString(DicomTags.ImplementationVersionName, DicomVR.SH, DicomUid.ImplementationVersionName);
        var metaBytes = new MemoryStream();
        var mw = new BinaryWriter(metaBytes);
        foreach (var e in meta.Elements) WriteElement(mw, e);
        mw.Flush();

        var w = new BinaryWriter(stream, System.Text.Encoding.Latin1, leaveOpen: true);
        w.Write(new byte[128]);
        w.Write("DICM"u8);
        WriteHeader(w, DicomTags.FileMetaInformationGroupLength, DicomVR.UL, 4);
        w.Write((uint)metaBytes.Length);
        w.Write(metaBytes.GetBuffer(), 0, (int)metaBytes.Length);
        foreach (var e in dataset.Elements)
        {
            if (e.Tag.Group == 0x0002 || e.Tag.Element == 0x0000) continue; // meta is rebuilt; group lengths are retired
            WriteElement(w, e);
        }
        w.Flush();
    }

    /// <summary>Writes to <paramref name="path"/> atomically (temp file, then rename): never a half file.</summary>
    public static void Save(string path, DicomDataset dataset, string transferSyntaxUid = TransferSyntax.ExplicitVRLittleEndianUid)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = full + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                Write(fs, dataset, transferSyntaxUid);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>The file as bytes (tests, in-memory use).</summary>
    public static byte[] ToBytes(DicomDataset dataset, string transferSyntaxUid = TransferSyntax.ExplicitVRLittleEndianUid)
    {
        var ms = new MemoryStream();
        Write(ms, dataset, transferSyntaxUid);
        return ms.ToArray();
    }

    private static void WriteHeader(BinaryWriter w, DicomTag tag, DicomVR vr, uint length)
    {
        w.Write(tag.Group);
        w.Write(tag.Element);
        w.Write((byte)((ushort)vr >> 8));
        w.Write((byte)vr);
        if (DicomVRInfo.HasLongLength(vr))
        {
            w.Write((ushort)0);
            w.Write(length);
        }
        else
        {
            if (length > 0xFFFE) throw new DicomException($"cannot write {tag}: {length} bytes do not fit the 16-bit length of VR {DicomVRInfo.ToText(vr)}");
            w.Write((ushort)length);
        }
    }

    private static void WriteItemHeader(BinaryWriter w, ushort element, uint length)
    {
        w.Write((ushort)0xFFFE);
        w.Write(element);
        w.Write(length);
    }

    private static void WriteElement(BinaryWriter w, DicomElement e)
    {
        if (e.Items != null)
        {
            WriteHeader(w, e.Tag, DicomVR.SQ, 0xFFFFFFFF);
            foreach (var item in e.Items)
            {
                WriteItemHeader(w, 0xE000, 0xFFFFFFFF);
                foreach (var child in item.Elements) WriteElement(w, child);
                WriteItemHeader(w, 0xE00D, 0);
            }
            WriteItemHeader(w, 0xE0DD, 0);
            return;
        }
        if (e.Fragments != null)
        {
            WriteHeader(w, e.Tag, e.VR == DicomVR.OW ? DicomVR.OW : DicomVR.OB, 0xFFFFFFFF);
            foreach (var f in e.Fragments)
            {
                int len = f.Length + (f.Length & 1);
                WriteItemHeader(w, 0xE000, (uint)len);
                w.Write(f.Span);
                if ((f.Length & 1) == 1) w.Write((byte)0);
            }
            WriteItemHeader(w, 0xE0DD, 0);
            return;
        }

        var data = e.Data.Span;
        int unit = DicomVRInfo.SwapUnit(e.VR);
        byte[]? swapped = null;
        if (e.BigEndian && unit > 1 && data.Length % unit == 0)
        {
            swapped = data.ToArray();
            for (int i = 0; i < swapped.Length; i += unit) swapped.AsSpan(i, unit).Reverse();
            data = swapped;
        }
        bool odd = (data.Length & 1) == 1;
        WriteHeader(w, e.Tag, e.VR, (uint)(data.Length + (odd ? 1 : 0)));
        w.Write(data);
        if (odd) w.Write(e.VR == DicomVR.UI || !DicomVRInfo.IsString(e.VR) ? (byte)0 : (byte)' ');
    }
}

/// <summary>Builds encapsulated Pixel Data from already-encoded frames: one fragment per frame and a Basic Offset Table.</summary>
public static class EncapsulatedPixelData
{
    public static DicomElement Build(IReadOnlyList<byte[]> frames)
    {
        if (frames.Count == 0) throw new ArgumentException("at least one frame is needed", nameof(frames));
        var bot = new byte[frames.Count * 4];
        long offset = 0;
        var fragments = new List<ReadOnlyMemory<byte>>(frames.Count + 1) { bot };
        for (int i = 0; i < frames.Count; i++)
        {
            if (offset > uint.MaxValue) throw new DicomException("encapsulated pixel data exceeds 4 GiB");
            BinaryPrimitives.WriteUInt32LittleEndian(bot.AsSpan(i * 4), (uint)offset);
            offset += 8 + frames[i].Length + (frames[i].Length & 1);
            fragments.Add(frames[i]);
        }
        return DicomElement.Encapsulated(DicomTags.PixelData, DicomVR.OB, fragments);
    }
}
