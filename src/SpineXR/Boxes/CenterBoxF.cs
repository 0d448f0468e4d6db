namespace SpineXR.Boxes;

/// <summary>A box as centre and size (cx, cy, w, h), the form DETR-style set predictors learn in.</summary>
public readonly record struct CenterBoxF(float Cx, float Cy, float W, float H)
{
    /// <summary>The same box as xyxy corners.</summary>
    public BoxF ToXyxy() => new(Cx - 0.5f * W, Cy - 0.5f * H, Cx + 0.5f * W, Cy + 0.5f * H);

    /// <summary>The centre form of an xyxy box.</summary>
    public static CenterBoxF FromXyxy(BoxF b) => new(0.5f * (b.X1 + b.X2), 0.5f * (b.Y1 + b.Y2), b.X2 - b.X1, b.Y2 - b.Y1);
}
