using System.Numerics;
using SpineXR.Boxes;

namespace SpineXR.Synthesis;

/// <summary>Which part of the spine a synthetic radiograph shows.</summary>
public enum SpineRegion { Lumbar, Cervical }

/// <summary>Projection of a synthetic radiograph: antero-posterior or lateral.</summary>
public enum SpineView { AP, Lateral }

/// <summary>
/// One vertebral body, in its own frame: <see cref="U"/> across the body (left-right in AP, antero-posterior in
/// lateral views), <see cref="V"/> down the spine. Sizes are half sizes in pixels.
/// </summary>
public sealed class Vertebra
{
    public required string Name { get; init; }
    public required Vector2 Center { get; init; }
    public required float HalfWidth { get; init; }
    public required float HalfHeight { get; init; }

    /// <summary>Tilt in radians (the local frame's rotation).</summary>
    public required float Angle { get; init; }

    /// <summary>Unit vector across the body.</summary>
    public Vector2 U => new(MathF.Cos(Angle), MathF.Sin(Angle));

    /// <summary>Unit vector down the spine.</summary>
    public Vector2 V => new(-MathF.Sin(Angle), MathF.Cos(Angle));

    /// <summary>A point given in the vertebra's frame, in image pixels.</summary>
    public Vector2 ToImage(float u, float v) => Center + u * U + v * V;
}

/// <summary>
/// A change to a vertebral body's shape that a lesion makes (the body alone; posterior elements stay).
/// </summary>
/// <param name="TopExtend">Pixels the upper endplate grows into the disc above (disc space narrowing).</param>
/// <param name="BottomExtend">Pixels the lower endplate grows into the disc below.</param>
/// <param name="Collapse">Height lost on the <paramref name="CollapseSign"/> side as a fraction (0 = none); the other side keeps full height (a wedge).</param>
/// <param name="CollapseSign">+1 or -1: the side (along U) that collapses; 0 flattens evenly.</param>
/// <param name="Slip">Shift of the body along U in pixels (spondylolisthesis).</param>
/// <remarks>Every field is 0 for "no change", so <c>default</c> is the unchanged body.</remarks>
public readonly record struct BodyChange(float TopExtend = 0, float BottomExtend = 0, float Collapse = 0, float CollapseSign = 0, float Slip = 0)
{
    public static BodyChange operator +(BodyChange a, BodyChange b) => new(
        a.TopExtend + b.TopExtend, a.BottomExtend + b.BottomExtend, a.Collapse + b.Collapse,
        a.CollapseSign != 0 ? a.CollapseSign : b.CollapseSign, a.Slip + b.Slip);
}

/// <summary>A vertebral body with its changes: a rounded box with a slight waist, wedged, extended or slipped.</summary>
public sealed class BodyShape(Vertebra vertebra, BodyChange change) : Shape
{
    /// <summary>Waist depth as a fraction of the half width (concave sides of a vertebral body).</summary>
    public const float Waist = 0.07f;

    private readonly Vector2 _u = vertebra.U, _v = vertebra.V;

    private float Factor(float uu)
    {
        if (change.Collapse == 0) return 1;
        if (change.CollapseSign == 0) return 1 - change.Collapse;
        float t = Math.Clamp((uu * change.CollapseSign / vertebra.HalfWidth + 1) * 0.5f, 0, 1);
        return 1 - change.Collapse * t;
    }

    /// <summary>The four corners of the changed body in image pixels.</summary>
    public Vector2[] Corners()
    {
        float hw = vertebra.HalfWidth, hh = vertebra.HalfHeight;
        var pts = new Vector2[4];
        int i = 0;
        foreach (float su in new[] { -1f, 1f })
        {
            float f = Factor(su * hw);
            pts[i++] = vertebra.ToImage(su * hw + change.Slip, -hh * f - change.TopExtend);
            pts[i++] = vertebra.ToImage(su * hw + change.Slip, hh * f + change.BottomExtend);
        }
        return pts;
    }

    public override BoxF Bounds
    {
        get
        {
            var c = Corners();
            return new BoxF(c.Min(p => p.X) - 1, c.Min(p => p.Y) - 1, c.Max(p => p.X) + 1, c.Max(p => p.Y) + 1);
        }
    }

    public override float Distance(float x, float y)
    {
        float dx = x - vertebra.Center.X, dy = y - vertebra.Center.Y;
        float u = dx * _u.X + dy * _u.Y - change.Slip, v = dx * _v.X + dy * _v.Y;
        float hh0 = vertebra.HalfHeight, f = Factor(u);
        float top = -hh0 * f - change.TopExtend, bottom = hh0 * f + change.BottomExtend;
        // The waist follows the unchanged body so that a change stays local to where it is drawn.
        float vn = Math.Clamp(v / hh0, -1, 1);
        float hw = vertebra.HalfWidth * (1 - Waist * (1 - vn * vn));
        return Sdf.RoundedBox(u, v - (top + bottom) * 0.5f, hw, (bottom - top) * 0.5f, MathF.Min(7, hh0 * 0.2f));
    }
}

/// <summary>
/// One lesion of a scene: its class, its ground-truth box (xyxy, image pixels) and what it draws — shapes added
/// on top of the anatomy and changes to vertebral bodies. Rendering a scene with and without it changes pixels
/// only inside <see cref="Box"/> (plus the 1-pixel blur).
/// </summary>
public sealed class SceneLesion
{
    /// <summary>Class index into <see cref="Data.LesionTaxonomy.Classes"/>.</summary>
    public required int ClassId { get; init; }

    public required BoxF Box { get; init; }

    public List<Shape> Overlays { get; } = [];

    public List<(int Vertebra, BodyChange Change)> BodyChanges { get; } = [];

    /// <summary>Free text for previews and debugging ("osteophyte L3 anterior-inferior").</summary>
    public string Note { get; init; } = "";
}

/// <summary>Soft-tissue body outline: centre and half width interpolated top to bottom, with a waist; thickness is the attenuation at the centre.</summary>
public readonly record struct SoftTissue(float CenterTop, float CenterBottom, float HalfWidthTop, float HalfWidthBottom, float Waist, float Thickness);

/// <summary>Detector response: value = Offset + Gain x attenuation x (1 + Heel x (y/H - 0.5)), plus noise of sigma NoiseFloor + NoiseScale x sqrt(value).</summary>
public readonly record struct Exposure(float Offset, float Gain, float Heel, float NoiseFloor, float NoiseScale);

/// <summary>Everything needed to draw one synthetic radiograph, deterministic given <see cref="Seed"/>.</summary>
public sealed class SpineScene
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required SpineRegion Region { get; init; }
    public required SpineView View { get; init; }

    /// <summary>Lateral views: +1 when the patient faces +x (anterior = +U). AP views: 0.</summary>
    public int AnteriorSign { get; init; }

    public required ulong Seed { get; init; }
    public required SoftTissue Body { get; init; }
    public required Exposure Exposure { get; init; }

    public Material BoneMaterial { get; init; } = new(0.55f, 0.45f, 6, 0.12f);

    public List<Vertebra> Vertebrae { get; } = [];

    /// <summary>Everything else: posterior elements, pelvis, ribs, skull, clavicles, air, markers.</summary>
    public List<Shape> Anatomy { get; } = [];

    public List<SceneLesion> Lesions { get; } = [];

    /// <summary>Foramen geometry per vertebra index (lateral views): the dark gap between this pedicle and the next.</summary>
    public Dictionary<int, BoxF> Foramina { get; } = [];
}
