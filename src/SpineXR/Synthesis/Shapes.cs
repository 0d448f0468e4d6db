using System.Numerics;
using SpineXR.Boxes;

namespace SpineXR.Synthesis;

/// <summary>How a shape attenuates: <see cref="Fill"/> inside, plus <see cref="Rim"/> fading inwards over <see cref="RimWidth"/> pixels (a cortex), with a mottled texture.</summary>
public readonly record struct Material(float Fill, float Rim = 0, float RimWidth = 1, float Texture = 0);

/// <summary>
/// A shape that adds attenuation to a radiograph. <see cref="Distance"/> is a signed distance in pixels
/// (negative inside); pixels are touched only inside <see cref="Bounds"/>, which is what makes lesion boxes exact.
/// </summary>
public abstract class Shape
{
    public Material Material { get; init; }

    /// <summary>Pixels the shape can change (before the final 3x3 blur), xyxy.</summary>
    public abstract BoxF Bounds { get; }

    /// <summary>Signed distance of (x, y) to the outline; negative inside.</summary>
    public abstract float Distance(float x, float y);
}

/// <summary>An ellipse, rotated by <paramref name="angle"/> radians (distance approximate, exact for circles).</summary>
public sealed class EllipseShape(Vector2 center, float rx, float ry, float angle = 0) : Shape
{
    private readonly float _c = MathF.Cos(angle), _s = MathF.Sin(angle);

    public override BoxF Bounds
    {
        get
        {
            float ex = MathF.Sqrt(rx * rx * _c * _c + ry * ry * _s * _s), ey = MathF.Sqrt(rx * rx * _s * _s + ry * ry * _c * _c);
            return new BoxF(center.X - ex - 1, center.Y - ey - 1, center.X + ex + 1, center.Y + ey + 1);
        }
    }

    public override float Distance(float x, float y)
    {
        float dx = x - center.X, dy = y - center.Y;
        float u = (dx * _c + dy * _s) / rx, v = (-dx * _s + dy * _c) / ry;
        return (MathF.Sqrt(u * u + v * v) - 1) * MathF.Min(rx, ry);
    }
}

/// <summary>A rectangle with rounded corners, half sizes (hw, hh), rotated by <paramref name="angle"/> radians.</summary>
public sealed class RoundedBoxShape(Vector2 center, float hw, float hh, float radius, float angle = 0) : Shape
{
    private readonly float _c = MathF.Cos(angle), _s = MathF.Sin(angle);

    public override BoxF Bounds
    {
        get
        {
            float ex = MathF.Abs(hw * _c) + MathF.Abs(hh * _s), ey = MathF.Abs(hw * _s) + MathF.Abs(hh * _c);
            return new BoxF(center.X - ex - 1, center.Y - ey - 1, center.X + ex + 1, center.Y + ey + 1);
        }
    }

    public override float Distance(float x, float y)
    {
        float dx = x - center.X, dy = y - center.Y;
        return Sdf.RoundedBox(dx * _c + dy * _s, -dx * _s + dy * _c, hw, hh, radius);
    }
}

/// <summary>A convex polygon (any winding); the distance is the largest signed distance to an edge line.</summary>
public sealed class PolygonShape : Shape
{
    private readonly Vector2[] _p;
    private readonly Vector2[] _n; // outward unit normals
    private readonly float[] _d;

    public PolygonShape(params Vector2[] points)
    {
        _p = points;
        float area = 0;
        for (int i = 0; i < points.Length; i++)
        {
            var a = points[i]; var b = points[(i + 1) % points.Length];
            area += a.X * b.Y - b.X * a.Y;
        }
        float sign = area >= 0 ? 1 : -1;
        _n = new Vector2[points.Length];
        _d = new float[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            var e = points[(i + 1) % points.Length] - points[i];
            var n = Vector2.Normalize(new Vector2(e.Y, -e.X)) * sign;
            _n[i] = n;
            _d[i] = Vector2.Dot(n, points[i]);
        }
    }

    public IReadOnlyList<Vector2> Points => _p;

    public override BoxF Bounds => new(_p.Min(p => p.X) - 1, _p.Min(p => p.Y) - 1, _p.Max(p => p.X) + 1, _p.Max(p => p.Y) + 1);

    public override float Distance(float x, float y)
    {
        float d = float.MinValue;
        var q = new Vector2(x, y);
        for (int i = 0; i < _n.Length; i++) d = MathF.Max(d, Vector2.Dot(_n[i], q) - _d[i]);
        return d;
    }
}

/// <summary>A stroke of half-width <paramref name="radius"/> along a polyline (ribs, rods, clavicles).</summary>
public sealed class StrokeShape(IReadOnlyList<Vector2> points, float radius) : Shape
{
    public override BoxF Bounds => new(points.Min(p => p.X) - radius - 1, points.Min(p => p.Y) - radius - 1,
        points.Max(p => p.X) + radius + 1, points.Max(p => p.Y) + radius + 1);

    public override float Distance(float x, float y)
    {
        var q = new Vector2(x, y);
        float best = float.MaxValue;
        for (int i = 0; i + 1 < points.Count; i++)
        {
            var a = points[i]; var ab = points[i + 1] - a;
            float t = Math.Clamp(Vector2.Dot(q - a, ab) / MathF.Max(1e-6f, ab.LengthSquared()), 0, 1);
            best = MathF.Min(best, Vector2.DistanceSquared(q, a + t * ab));
        }
        return MathF.Sqrt(best) - radius;
    }

    /// <summary>Points along a quadratic Bezier curve.</summary>
    public static Vector2[] Bezier(Vector2 p0, Vector2 p1, Vector2 p2, int segments = 12)
    {
        var pts = new Vector2[segments + 1];
        for (int i = 0; i <= segments; i++)
        {
            float t = i / (float)segments, m = 1 - t;
            pts[i] = m * m * p0 + 2 * m * t * p1 + t * t * p2;
        }
        return pts;
    }
}

/// <summary>Signed-distance helpers.</summary>
public static class Sdf
{
    /// <summary>Distance to a rounded box centred at the origin, half sizes (hw, hh), corner radius r.</summary>
    public static float RoundedBox(float u, float v, float hw, float hh, float r)
    {
        r = MathF.Min(r, MathF.Min(hw, hh));
        float qx = MathF.Abs(u) - hw + r, qy = MathF.Abs(v) - hh + r;
        float ox = MathF.Max(qx, 0), oy = MathF.Max(qy, 0);
        return MathF.Sqrt(ox * ox + oy * oy) + MathF.Min(MathF.Max(qx, qy), 0) - r;
    }

    /// <summary>Union of boxes.</summary>
    public static BoxF Union(BoxF a, BoxF b) => new(MathF.Min(a.X1, b.X1), MathF.Min(a.Y1, b.Y1), MathF.Max(a.X2, b.X2), MathF.Max(a.Y2, b.Y2));

    /// <summary>A box grown by <paramref name="pad"/> on every side.</summary>
    public static BoxF Pad(BoxF a, float pad) => new(a.X1 - pad, a.Y1 - pad, a.X2 + pad, a.Y2 + pad);
}
