namespace SpineXR.Boxes;

/// <summary>An axis-aligned box in absolute pixels, xyxy (x1, y1 top-left; x2, y2 bottom-right; no +1 convention).</summary>
public readonly record struct BoxF(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>This box limited to the image [0, width] x [0, height].</summary>
    public BoxF Clip(float width, float height) =>
        new(Math.Clamp(X1, 0, width), Math.Clamp(Y1, 0, height), Math.Clamp(X2, 0, width), Math.Clamp(Y2, 0, height));

    /// <summary>From COCO's [x, y, w, h].</summary>
    public static BoxF FromXywh(float x, float y, float w, float h) => new(x, y, x + w, y + h);
}

/// <summary>One detected lesion: box (xyxy, original image pixels), class index into <see cref="Data.LesionTaxonomy.Classes"/>, score in [0, 1].</summary>
public readonly record struct ScoredBox(BoxF Box, int ClassId, float Score);
