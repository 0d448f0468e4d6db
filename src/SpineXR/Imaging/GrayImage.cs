using System.Runtime.InteropServices;
using SpineXR.Boxes;

namespace SpineXR.Imaging;

/// <summary>
/// A preprocessed grayscale image ready for a model: <see cref="Width"/> x <see cref="Height"/> pixels, row-major,
/// 8-bit (one byte a pixel) or 16-bit (two bytes, little-endian). A point (x, y) of the original image lands at
/// (x * <see cref="ScaleX"/>, y * <see cref="ScaleY"/>); letterbox padding, if any, is on the right and bottom.
/// </summary>
public sealed record GrayImage(byte[] Pixels, int Width, int Height, int Bits, float ScaleX, float ScaleY, int OriginalWidth, int OriginalHeight)
{
    /// <summary>The pixels of a 16-bit image.</summary>
    public ReadOnlySpan<ushort> Pixels16 => Bits == 16 ? MemoryMarshal.Cast<byte, ushort>(Pixels) : throw new InvalidOperationException("not a 16-bit image");

    /// <summary>A box of the original image (xyxy pixels) in this image's pixels.</summary>
    public BoxF ToImage(BoxF b) => new(b.X1 * ScaleX, b.Y1 * ScaleY, b.X2 * ScaleX, b.Y2 * ScaleY);

    /// <summary>A box of this image back in original-image pixels (for predictions).</summary>
    public BoxF ToOriginal(BoxF b) => new(b.X1 / ScaleX, b.Y1 / ScaleY, b.X2 / ScaleX, b.Y2 / ScaleY);
}

/// <summary>How an image is fitted to the model input size.</summary>
public enum ResizeMode
{
    /// <summary>To Size x Size, aspect ratio not kept (the paper's classifier input: 224 x 224).</summary>
    Stretch,
    /// <summary>Aspect ratio kept, fitted inside Size x Size, placed top-left, the rest zero (so boxes only scale).</summary>
    Letterbox,
    /// <summary>Aspect ratio kept, shortest side = Size, longest capped at MaxSize (detectron2's ResizeShortestEdge: 800 / 1333).</summary>
    ShortSide,
}

/// <summary>Preprocessing of <see cref="ImageLoader"/>; part of the cache key.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>Output side (Stretch, Letterbox) or shortest side (ShortSide). Default 512.</summary>
    public int Size { get; init; } = 512;

    /// <summary>ShortSide only: cap on the longest side, 0 for none.</summary>
    public int MaxSize { get; init; }

    public ResizeMode Mode { get; init; } = ResizeMode.Stretch;

    /// <summary>8 (the reference 8-bit conversion, VinDr-SpineXR's) or 16 (the same chain scaled to 0..65535).</summary>
    public int Bits { get; init; } = 8;

    public ImageLoadOptions Validate()
    {
        if (Size is < 8 or > 8192) throw new ArgumentException("must be 8 to 8192", nameof(Size));
        if (MaxSize != 0 && MaxSize < Size) throw new ArgumentException("must be 0 or >= Size", nameof(MaxSize));
        if (Bits is not (8 or 16)) throw new ArgumentException("must be 8 or 16", nameof(Bits));
        return this;
    }

    /// <summary>Output size for an original of <paramref name="w"/> x <paramref name="h"/>: canvas and the resized content inside it.</summary>
    public (int CanvasW, int CanvasH, int ContentW, int ContentH) Fit(int w, int h)
    {
        switch (Mode)
        {
            case ResizeMode.Stretch: return (Size, Size, Size, Size);
            case ResizeMode.Letterbox:
            {
                double s = Math.Min(Size / (double)w, Size / (double)h);
                int cw = Math.Clamp((int)Math.Round(w * s), 1, Size), ch = Math.Clamp((int)Math.Round(h * s), 1, Size);
                return (Size, Size, cw, ch);
            }
            default:
            {
                double s = Size / (double)Math.Min(w, h);
                if (MaxSize > 0 && Math.Max(w, h) * s > MaxSize) s = MaxSize / (double)Math.Max(w, h);
                int cw = Math.Max(1, (int)Math.Round(w * s)), ch = Math.Max(1, (int)Math.Round(h * s));
                return (cw, ch, cw, ch);
            }
        }
    }

    internal string Key => FormattableString.Invariant($"v1/{Mode}/{Size}/{MaxSize}/{Bits}");
}
