using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using SpineXR.IO;

namespace SpineXR.Imaging;

/// <summary>One result of <see cref="ImageLoader.Prefetch{T}"/>: the item, and its image or the error that stopped it.</summary>
public readonly record struct Loaded<T>(T Item, GrayImage? Image, Exception? Error);

/// <summary>
/// Loads images for training and inference: DICOM -> reference conversion (8 or 16 bit) -> resize, with a disk
/// cache of the result so later epochs skip the JPEG 2000 decode. Cache entries are keyed by the file's full path,
/// size and modification time and by the preprocessing options; a changed file gets a new entry. Entries are raw
/// pixels behind a 32-byte header (<c>SXI1</c>), written atomically, so concurrent loaders and killed runs are safe.
/// Thread-safe: one loader can serve many workers.
/// </summary>
/// <example>
/// <code>
/// var loader = new ImageLoader(new ImageLoadOptions { Size = 384 }, index.CacheDirectory);
/// foreach (var (img, gray, err) in loader.Prefetch(images, i => i.Path, workers: 4))
///     if (gray != null) Train(gray.Pixels, img.Boxes.Select(b => gray.ToImage(b.Box)));
/// </code>
/// </example>
public sealed class ImageLoader
{
    private const uint Magic = 0x31495853; // "SXI1"
    private const int HeaderBytes = 32;
    private long _hits, _misses;

    /// <param name="options">Preprocessing (validated).</param>
    /// <param name="cacheDirectory">Folder of the cache (created on first write), or null for no cache.</param>
    public ImageLoader(ImageLoadOptions options, string? cacheDirectory)
    {
        Options = options.Validate();
        CacheDirectory = cacheDirectory;
    }

    public ImageLoadOptions Options { get; }
    public string? CacheDirectory { get; }

    /// <summary>Loads served from the cache.</summary>
    public long CacheHits => Interlocked.Read(ref _hits);

    /// <summary>Loads that decoded the DICOM file.</summary>
    public long CacheMisses => Interlocked.Read(ref _misses);

    /// <summary>The default cache folder: <c>DATASET/.cache</c> when writable, else <c>~/.cache/spinexr</c>.</summary>
    public static string DefaultCacheDirectory(string? datasetRoot)
    {
        if (datasetRoot != null)
        {
            string dir = Path.Combine(datasetRoot, ".cache");
            try
            {
                Directory.CreateDirectory(dir);
                string probe = Path.Combine(dir, ".probe-" + Environment.ProcessId);
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
                return dir;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "spinexr");
    }

    /// <summary>Loads one image (from the cache when present). Throws for an unreadable file (DicomException, IOException).</summary>
    public GrayImage Load(string path)
    {
        string? entry = CacheDirectory != null ? EntryPath(path) : null;
        if (entry != null && TryReadEntry(entry) is { } cached)
        {
            Interlocked.Increment(ref _hits);
            return cached;
        }
        Interlocked.Increment(ref _misses);
        var image = Decode(path, Options);
        if (entry != null)
        {
            try { WriteEntry(entry, image); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a read-only cache only costs speed
        }
        return image;
    }

    /// <summary>Decodes and preprocesses without the cache.</summary>
    public static GrayImage Decode(string path, ImageLoadOptions options)
    {
        options.Validate();
        if (options.Bits == 8)
        {
            var (px, w, h) = DicomImageDecoder.Decode8(path);
            var (cw, ch, iw, ih) = options.Fit(w, h);
            var dst = new byte[cw * ch];
            Resampler.Resize(px, w, h, dst, iw, ih, cw);
            return new GrayImage(dst, cw, ch, 8, iw / (float)w, ih / (float)h, w, h);
        }
        else
        {
            var (px, w, h) = DicomImageDecoder.Decode16(path);
            var (cw, ch, iw, ih) = options.Fit(w, h);
            var dst = new ushort[cw * ch];
            Resampler.Resize(px, w, h, dst, iw, ih, cw);
            var bytes = new byte[dst.Length * 2];
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(dst.AsSpan()).CopyTo(bytes);
            return new GrayImage(bytes, cw, ch, 16, iw / (float)w, ih / (float)h, w, h);
        }
    }

    /// <summary>
    /// Loads <paramref name="items"/> in parallel and yields them in input order. At most <paramref name="workers"/>
    /// decode at once and at most <paramref name="capacity"/> finished images wait for the consumer, so memory stays
    /// bounded however long the sequence. A failed item is yielded with its error; the others go on. Stopping the
    /// enumeration early cancels the loads not yet started.
    /// </summary>
    /// <param name="workers">Parallel loads; 0 = processor count.</param>
    /// <param name="capacity">Images loaded ahead of the consumer; 0 = 2 x workers.</param>
    public IEnumerable<Loaded<T>> Prefetch<T>(IEnumerable<T> items, Func<T, string> path, int workers = 0, int capacity = 0)
    {
        if (workers <= 0) workers = Environment.ProcessorCount;
        if (capacity <= 0) capacity = 2 * workers;
        var channel = Channel.CreateBounded<Task<Loaded<T>>>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        using var gate = new SemaphoreSlim(workers);
        using var cts = new CancellationTokenSource();
        var token = cts.Token;
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var item in items)
                {
                    token.ThrowIfCancellationRequested();
                    var task = Task.Run(async () =>
                    {
                        await gate.WaitAsync(token).ConfigureAwait(false);
                        try { return new Loaded<T>(item, Load(path(item)), null); }
                        catch (Exception e) when (e is not OperationCanceledException) { return new Loaded<T>(item, null, e); }
                        finally { gate.Release(); }
                    }, token);
                    await channel.Writer.WriteAsync(task, token).ConfigureAwait(false);
                }
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e is OperationCanceledException ? null : e);
            }
        });
        try
        {
            while (channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                while (channel.Reader.TryRead(out var task))
                    yield return task.GetAwaiter().GetResult();
        }
        finally
        {
            cts.Cancel();
            try { producer.GetAwaiter().GetResult(); } catch (OperationCanceledException) { }
            // Let started loads finish before the gate is disposed.
            while (channel.Reader.TryRead(out var t)) try { t.GetAwaiter().GetResult(); } catch (OperationCanceledException) { }
        }
    }

    private string EntryPath(string path)
    {
        var fi = new FileInfo(path);
        if (!fi.Exists) throw new FileNotFoundException($"{path}: file not found", path);
        string id = FormattableString.Invariant($"{fi.FullName}|{fi.Length}|{fi.LastWriteTimeUtc.Ticks}|{Options.Key}");
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
        return Path.Combine(CacheDirectory!, "images", key[..2], key + ".sxi");
    }

    private static GrayImage? TryReadEntry(string entry)
    {
        byte[] data;
        try { data = File.ReadAllBytes(entry); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (data.Length < HeaderBytes) return null;
        var h = data.AsSpan();
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != Magic) return null;
        int w = BinaryPrimitives.ReadInt32LittleEndian(h[4..]), ht = BinaryPrimitives.ReadInt32LittleEndian(h[8..]), bits = BinaryPrimitives.ReadInt32LittleEndian(h[12..]);
        int ow = BinaryPrimitives.ReadInt32LittleEndian(h[16..]), oh = BinaryPrimitives.ReadInt32LittleEndian(h[20..]);
        float sx = BinaryPrimitives.ReadSingleLittleEndian(h[24..]), sy = BinaryPrimitives.ReadSingleLittleEndian(h[28..]);
        if (w <= 0 || ht <= 0 || bits is not (8 or 16) || (long)w * ht * (bits / 8) != data.Length - HeaderBytes) return null; // torn or foreign: decode again
        return new GrayImage(data[HeaderBytes..], w, ht, bits, sx, sy, ow, oh);
    }

    private static void WriteEntry(string entry, GrayImage im)
    {
        var buf = new byte[HeaderBytes + im.Pixels.Length];
        var h = buf.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(h[4..], im.Width);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], im.Height);
        BinaryPrimitives.WriteInt32LittleEndian(h[12..], im.Bits);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], im.OriginalWidth);
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], im.OriginalHeight);
        BinaryPrimitives.WriteSingleLittleEndian(h[24..], im.ScaleX);
        BinaryPrimitives.WriteSingleLittleEndian(h[28..], im.ScaleY);
        im.Pixels.CopyTo(buf, HeaderBytes);
        AtomicFile.Write(entry, s => s.Write(buf));
    }
}
