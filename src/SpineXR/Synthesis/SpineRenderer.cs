namespace SpineXR.Synthesis;

/// <summary>
/// Draws a <see cref="SpineScene"/> as a 12-bit radiograph (bright = more attenuation, the MONOCHROME2 sense).
/// The model is additive: soft tissue, then every shape's attenuation summed, mapped linearly by the exposure,
/// softened by a 3x3 binomial blur, then given signal-dependent noise drawn from the scene seed alone. So removing
/// a lesion changes pixels only within its shapes' bounds plus one pixel, which the tests check.
/// </summary>
public static class SpineRenderer
{
    /// <summary>Largest stored value (12 bits).</summary>
    public const int MaxValue = 4095;

    /// <summary>Renders the scene; <paramref name="include"/> picks the lesions drawn (all when null).</summary>
    public static ushort[] Render(SpineScene scene, Func<SceneLesion, bool>? include = null)
    {
        int w = scene.Width, h = scene.Height;
        var a = new float[w * h];
        DrawSoftTissue(a, scene);
        uint tex = (uint)(scene.Seed >> 32) ^ (uint)scene.Seed;
        foreach (var s in scene.Anatomy) Shade(a, w, h, s, tex);

        var lesions = scene.Lesions.Where(l => include?.Invoke(l) ?? true).ToList();
        for (int i = 0; i < scene.Vertebrae.Count; i++)
        {
            var change = new BodyChange();
            foreach (var l in lesions)
                foreach (var (v, c) in l.BodyChanges)
                    if (v == i) change += c;
            Shade(a, w, h, new BodyShape(scene.Vertebrae[i], change) { Material = scene.BoneMaterial }, tex);
        }
        foreach (var l in lesions)
            foreach (var s in l.Overlays) Shade(a, w, h, s, tex);

        Expose(a, w, h, scene.Exposure);
        BlurInPlace(a, w, h);
        return Quantise(a, scene.Exposure, scene.Seed);
    }

    private static void DrawSoftTissue(float[] a, SpineScene s)
    {
        int w = s.Width, h = s.Height;
        var b = s.Body;
        for (int y = 0; y < h; y++)
        {
            float t = (y + 0.5f) / h;
            float cx = b.CenterTop + (b.CenterBottom - b.CenterTop) * t;
            float hw = (b.HalfWidthTop + (b.HalfWidthBottom - b.HalfWidthTop) * t) * (1 - b.Waist * MathF.Sin(MathF.PI * t));
            var row = a.AsSpan(y * w, w);
            int x0 = Math.Max(0, (int)(cx - hw)), x1 = Math.Min(w - 1, (int)(cx + hw) + 1);
            float inv = 1 / hw;
            for (int x = x0; x <= x1; x++)
            {
                float u = (x + 0.5f - cx) * inv;
                float q = 1 - u * u;
                if (q > 0) row[x] += b.Thickness * MathF.Sqrt(q);
            }
        }
    }

    /// <summary>Adds one shape's attenuation: fill with texture, a cortical rim fading inwards, anti-aliased edge.</summary>
    internal static void Shade(float[] a, int w, int h, Shape s, uint textureSeed)
    {
        var b = s.Bounds;
        int x0 = Math.Max(0, (int)MathF.Floor(b.X1)), y0 = Math.Max(0, (int)MathF.Floor(b.Y1));
        int x1 = Math.Min(w - 1, (int)MathF.Ceiling(b.X2)), y1 = Math.Min(h - 1, (int)MathF.Ceiling(b.Y2));
        var m = s.Material;
        float invRim = m.RimWidth > 0 ? 1 / m.RimWidth : 0;
        for (int y = y0; y <= y1; y++)
        {
            var row = a.AsSpan(y * w, w);
            float py = y + 0.5f;
            for (int x = x0; x <= x1; x++)
            {
                float d = s.Distance(x + 0.5f, py);
                if (d >= 0.5f) continue;
                float cover = MathF.Min(1, 0.5f - d);
                float fill = m.Fill;
                if (m.Texture != 0) fill *= 1 + m.Texture * ValueNoise(x, y, textureSeed);
                float rim = m.Rim != 0 ? m.Rim * MathF.Max(0, 1 + MathF.Min(d, 0) * invRim) : 0;
                row[x] += cover * (fill + rim);
            }
        }
    }

    /// <summary>Smooth lattice noise in [-1, 1] with a 6-pixel cell: the trabecular mottle of bone.</summary>
    internal static float ValueNoise(int x, int y, uint seed)
    {
        const float cell = 6f;
        float fx = x / cell, fy = y / cell;
        int ix = (int)fx, iy = (int)fy;
        float tx = fx - ix, ty = fy - iy;
        tx = tx * tx * (3 - 2 * tx);
        ty = ty * ty * (3 - 2 * ty);
        float n00 = Lattice(ix, iy, seed), n10 = Lattice(ix + 1, iy, seed), n01 = Lattice(ix, iy + 1, seed), n11 = Lattice(ix + 1, iy + 1, seed);
        return (n00 + (n10 - n00) * tx) * (1 - ty) + (n01 + (n11 - n01) * tx) * ty;
    }

    private static float Lattice(int x, int y, uint seed)
    {
        uint hsh = (uint)x * 0x8DA6B343u ^ (uint)y * 0xD8163841u ^ seed * 0xCB1AB31Fu;
        hsh ^= hsh >> 15; hsh *= 0x2C1B3C6Du; hsh ^= hsh >> 12; hsh *= 0x297A2D39u; hsh ^= hsh >> 15;
        return (hsh & 0xFFFF) / 32767.5f - 1;
    }

    private static void Expose(float[] a, int w, int h, Exposure e)
    {
        for (int y = 0; y < h; y++)
        {
            float gain = e.Gain * (1 + e.Heel * ((y + 0.5f) / h - 0.5f));
            var row = a.AsSpan(y * w, w);
            for (int x = 0; x < row.Length; x++) row[x] = e.Offset + gain * row[x];
        }
    }

    /// <summary>3x3 binomial blur (edge pixels replicated): the detector's point spread.</summary>
    internal static void BlurInPlace(float[] a, int w, int h)
    {
        var tmp = new float[a.Length];
        for (int y = 0; y < h; y++)
        {
            var src = a.AsSpan(y * w, w);
            var dst = tmp.AsSpan(y * w, w);
            if (w == 1) { dst[0] = src[0]; continue; }
            dst[0] = 0.75f * src[0] + 0.25f * src[1];
            for (int x = 1; x < w - 1; x++) dst[x] = 0.25f * (src[x - 1] + src[x + 1]) + 0.5f * src[x];
            dst[w - 1] = 0.75f * src[w - 1] + 0.25f * src[w - 2];
        }
        for (int y = 0; y < h; y++)
        {
            var up = tmp.AsSpan(Math.Max(0, y - 1) * w, w);
            var mid = tmp.AsSpan(y * w, w);
            var down = tmp.AsSpan(Math.Min(h - 1, y + 1) * w, w);
            var dst = a.AsSpan(y * w, w);
            for (int x = 0; x < w; x++) dst[x] = 0.25f * (up[x] + down[x]) + 0.5f * mid[x];
        }
    }

    private static ushort[] Quantise(float[] a, Exposure e, ulong seed)
    {
        var rng = new SynthRandom(seed ^ 0x6E6F697365UL);
        var result = new ushort[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            float v = a[i];
            v += (float)rng.Normal() * (e.NoiseFloor + e.NoiseScale * MathF.Sqrt(MathF.Max(0, v)));
            result[i] = (ushort)Math.Clamp((int)MathF.Round(v), 0, MaxValue);
        }
        return result;
    }
}
