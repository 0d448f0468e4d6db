using System.Numerics;

namespace SpineXR.Synthesis;

/// <summary>
/// Builds the normal anatomy of a synthetic spine radiograph: a soft-tissue body profile, a curved column of
/// vertebral bodies (cortical rims, trabecular mottle) with pedicles and posterior elements, and the neighbouring
/// bones of the region (pelvis, sacrum and lower ribs for the lumbar spine; mandible, skull base, clavicles and
/// trachea for the cervical spine), with patient size and exposure drawn at random.
/// </summary>
public static class SceneBuilder
{
    /// <summary>Soft tissue attenuation at full body thickness, the unit of the attenuation scale.</summary>
    private const float Tissue = 1f;

    public static SpineScene Build(SynthRandom rng, SpineRegion region, SpineView view, float sizeScale = 1f)
    {
        bool lumbar = region == SpineRegion.Lumbar;
        int w = 2 * (int)(sizeScale * (lumbar ? rng.Range(430, 500) : rng.Range(390, 450)));
        int h = 2 * (int)(sizeScale * (lumbar ? rng.Range(540, 600) : rng.Range(480, 550)));
        int ant = view == SpineView.Lateral ? (rng.Chance(0.5) ? 1 : -1) : 0;

        // Column: spine centre, level pitch, bodies stacked upwards from the lowest level.
        string[] names = lumbar ? ["T11", "T12", "L1", "L2", "L3", "L4", "L5"] : ["C2", "C3", "C4", "C5", "C6", "C7", "T1"];
        if (!lumbar && view == SpineView.AP) names = names[1..];
        float pitch = h * (lumbar ? rng.Range(0.128f, 0.142f) : rng.Range(0.118f, 0.132f)) * (lumbar ? 1 : 7f / names.Length * 0.95f);
        float cx = view == SpineView.AP ? w * (0.5f + rng.Range(-0.05f, 0.05f)) : w * (0.5f + ant * rng.Range(0.0f, 0.06f));
        float bottom = h * (lumbar ? rng.Range(0.76f, 0.82f) : rng.Range(0.86f, 0.93f));
        float curve = view == SpineView.AP ? w * rng.Range(-0.035f, 0.035f) : ant * w * rng.Range(0.03f, 0.065f);
        float hwRatio = view == SpineView.AP ? rng.Range(1.35f, 1.55f) : lumbar ? rng.Range(1.15f, 1.35f) : rng.Range(1.05f, 1.25f);
        float bodyFrac = rng.Range(0.69f, 0.75f); // body height / pitch
        float spanTop = bottom - pitch * names.Length, span = bottom - spanTop;

        var scene = new SpineScene
        {
            Width = w, Height = h, Region = region, View = view, AnteriorSign = ant, Seed = rng.NextULong(),
            Body = MakeBody(rng, w, h, region, view, cx, ant),
            Exposure = new Exposure(rng.Range(150, 350), rng.Range(950, 1250), rng.Range(-0.12f, 0.12f), rng.Range(5, 9), rng.Range(0.45f, 0.7f)),
            BoneMaterial = new Material(rng.Range(0.5f, 0.62f), rng.Range(0.38f, 0.5f), rng.Range(5, 7), 0.12f),
        };

        float X(float y) => cx + curve * MathF.Sin(MathF.PI * Math.Clamp((y - spanTop) / span, 0, 1));
        float Slope(float y) => curve * MathF.PI / span * MathF.Cos(MathF.PI * Math.Clamp((y - spanTop) / span, 0, 1));
        for (int i = 0; i < names.Length; i++)
        {
            float grow = 0.92f + 0.16f * i / (names.Length - 1); // lower levels are larger
            float y = bottom - pitch * (names.Length - i - 0.5f);
            float hh = 0.5f * bodyFrac * pitch * grow * rng.Range(0.96f, 1.04f);
            scene.Vertebrae.Add(new Vertebra
            {
                Name = names[i], Center = new Vector2(X(y), y), HalfHeight = hh, HalfWidth = hh * hwRatio * rng.Range(0.97f, 1.03f),
                Angle = MathF.Atan(Slope(y)) * -1 + rng.Range(-0.03f, 0.03f),
            });
        }

        if (view == SpineView.AP) AddApElements(scene, rng, lumbar);
        else AddLateralElements(scene, rng, lumbar);
        if (lumbar) AddPelvisAndRibs(scene, rng, pitch);
        else AddNeckBones(scene, rng, pitch);
        AddMarker(scene, rng);
        return scene;
    }

    private static SoftTissue MakeBody(SynthRandom rng, int w, int h, SpineRegion region, SpineView view, float cx, int ant)
    {
        float thick = Tissue * (view == SpineView.Lateral ? rng.Range(1.15f, 1.5f) : rng.Range(0.85f, 1.2f));
        if (region == SpineRegion.Lumbar)
        {
            float c = view == SpineView.AP ? cx + rng.Range(-0.03f, 0.03f) * w : cx + ant * w * rng.Range(0.12f, 0.22f);
            float hw = w * rng.Range(0.42f, 0.62f);
            return new SoftTissue(c, c + rng.Range(-0.02f, 0.02f) * w, hw, hw * rng.Range(1.0f, 1.12f), rng.Range(0.02f, 0.08f), thick);
        }
        if (view == SpineView.AP)
            return new SoftTissue(cx, cx, w * rng.Range(0.22f, 0.3f), w * rng.Range(0.55f, 0.7f), -0.05f, thick * 0.8f);
        float cl = cx + ant * w * rng.Range(0.05f, 0.1f);
        return new SoftTissue(cl, cl - ant * w * 0.04f, w * rng.Range(0.3f, 0.36f), w * rng.Range(0.45f, 0.6f), -0.04f, thick * 0.85f);
    }

    private static void AddApElements(SpineScene s, SynthRandom rng, bool lumbar)
    {
        var ped = new Material(0.12f, 0.38f, 6);
        var proc = new Material(0.22f, 0.28f, 5, 0.1f);
        for (int i = 0; i < s.Vertebrae.Count; i++)
        {
            var v = s.Vertebrae[i];
            float hw = v.HalfWidth, hh = v.HalfHeight;
            foreach (int side in new[] { -1, 1 })
            {
                s.Anatomy.Add(new EllipseShape(v.ToImage(side * 0.6f * hw, -0.38f * hh), 0.15f * hw, 0.27f * hh, v.Angle) { Material = ped });
                bool thoracic = v.Name.StartsWith('T');
                float tpLen = (lumbar ? (thoracic ? 0.45f : v.Name == "L3" ? 0.8f : 0.62f) : 0.3f) * hw * rng.Range(0.9f, 1.1f);
                float tpStart = 0.78f * hw;
                s.Anatomy.Add(new RoundedBoxShape(v.ToImage(side * (tpStart + tpLen / 2), -0.32f * hh), tpLen / 2, 0.13f * hh + 2, 5,
                    v.Angle - side * (lumbar ? 0.08f : 0.2f)) { Material = proc });
            }
            // Spinous process seen end-on: a teardrop over the lower body and the disc below.
            s.Anatomy.Add(new EllipseShape(v.ToImage(0, 0.3f * hh), 0.11f * hw, 0.5f * hh, v.Angle) { Material = new Material(0.18f, 0.3f, 5) });
        }
    }

    private static void AddLateralElements(SpineScene s, SynthRandom rng, bool lumbar)
    {
        int a = s.AnteriorSign;
        var bone = new Material(0.26f, 0.32f, 5, 0.1f);
        for (int i = 0; i < s.Vertebrae.Count; i++)
        {
            var v = s.Vertebrae[i];
            float hw = v.HalfWidth, hh = v.HalfHeight;
            float pl = (lumbar ? 0.55f : 0.45f) * hw, aw = (lumbar ? 0.36f : 0.42f) * hw;
            float spl = (lumbar ? 0.85f : v.Name == "C7" || v.Name == "T1" ? 1.25f : 0.8f) * hw * rng.Range(0.9f, 1.1f);
            // Pedicle: from the upper posterior body wall backwards.
            s.Anatomy.Add(new RoundedBoxShape(v.ToImage(-a * (hw + pl / 2 - 2), -0.38f * hh), pl / 2 + 2, 0.3f * hh, 5, v.Angle) { Material = bone });
            // Articular pillar with the facets, spanning the level.
            s.Anatomy.Add(new RoundedBoxShape(v.ToImage(-a * (hw + pl + aw / 2), 0.1f * hh), aw / 2, 0.85f * hh, 6, v.Angle + a * 0.05f) { Material = bone });
            // Spinous process: backwards and down.
            var root = -a * (hw + pl + aw * 0.8f);
            s.Anatomy.Add(new PolygonShape(
                v.ToImage(root, -0.45f * hh), v.ToImage(root, 0.55f * hh),
                v.ToImage(root - a * spl, 0.95f * hh), v.ToImage(root - a * spl, 0.55f * hh)) { Material = bone });
            if (i + 1 < s.Vertebrae.Count)
            {
                var n = s.Vertebrae[i + 1];
                var top = v.ToImage(-a * (hw + pl / 2), -0.08f * hh);
                var bottomPt = n.ToImage(-a * (n.HalfWidth + pl / 2), -0.68f * n.HalfHeight);
                float x1 = MathF.Min(top.X, bottomPt.X) - pl / 2, x2 = MathF.Max(top.X, bottomPt.X) + pl / 2;
                s.Foramina[i] = new Boxes.BoxF(x1, top.Y, x2, bottomPt.Y);
            }
        }
    }

    private static void AddPelvisAndRibs(SpineScene s, SynthRandom rng, float pitch)
    {
        var l5 = s.Vertebrae[^1];
        var t11 = s.Vertebrae[0];
        var t12 = s.Vertebrae[1];
        int w = s.Width, h = s.Height;
        float disc = pitch - 2 * l5.HalfHeight;
        var s1 = l5.ToImage(0, l5.HalfHeight + disc); // centre of the sacral endplate
        var pelvis = new Material(0.2f, 0.45f, 9, 0.08f);
        var sacrum = new Material(0.3f, 0.3f, 6, 0.12f);
        if (s.View == SpineView.AP)
        {
            float sw = l5.HalfWidth * 1.15f;
            s.Anatomy.Add(new PolygonShape(s1 + new Vector2(-sw, 0), s1 + new Vector2(sw, 0),
                s1 + new Vector2(sw * 0.35f, h * 0.3f), s1 + new Vector2(-sw * 0.35f, h * 0.3f)) { Material = sacrum });
            for (int k = 0; k < 3; k++)
                foreach (int side in new[] { -1, 1 })
                    s.Anatomy.Add(new EllipseShape(s1 + new Vector2(side * sw * (0.5f - 0.08f * k), pitch * (0.45f + 0.55f * k)), 9, 7)
                    { Material = new Material(-0.12f) });
            foreach (int side in new[] { -1, 1 })
            {
                var c = new Vector2(s1.X + side * (sw + w * rng.Range(0.17f, 0.21f)), s1.Y + h * rng.Range(0.0f, 0.05f));
                s.Anatomy.Add(new EllipseShape(c, w * rng.Range(0.17f, 0.2f), h * rng.Range(0.2f, 0.24f), side * rng.Range(0.25f, 0.4f)) { Material = pelvis });
            }
            foreach (var (v, len) in new[] { (t11, 0.42f), (t12, 0.3f) })
                foreach (int side in new[] { -1, 1 })
                {
                    var p0 = v.ToImage(side * v.HalfWidth * 1.1f, -0.35f * v.HalfHeight);
                    var p2 = p0 + new Vector2(side * w * len, h * len * 0.45f);
                    var p1 = p0 + new Vector2(side * w * len * 0.6f, -h * 0.02f);
                    s.Anatomy.Add(new StrokeShape(StrokeShape.Bezier(p0, p1, p2), v.HalfHeight * 0.22f + 4) { Material = new Material(0.16f, 0.3f, 5) });
                }
            // Bowel gas over the abdomen.
            for (int k = rng.Int(2, 6); k > 0; k--)
                s.Anatomy.Add(new EllipseShape(new Vector2(rng.Range(0.15f, 0.85f) * w, rng.Range(0.3f, 0.75f) * h), rng.Range(15, 45), rng.Range(12, 35), rng.Range(0, 3))
                { Material = new Material(-rng.Range(0.06f, 0.14f)) });
        }
        else
        {
            int a = s.AnteriorSign;
            float tilt = l5.Angle + a * rng.Range(0.55f, 0.75f); // sacral slope
            var u = new Vector2(MathF.Cos(tilt), MathF.Sin(tilt));
            var down = new Vector2(-u.Y, u.X);
            float sw = l5.HalfWidth * 1.05f;
            var c = s1 + down * (h * 0.13f) - a * u * sw * 0.3f;
            s.Anatomy.Add(new PolygonShape(s1 + u * sw, s1 - u * sw, s1 - u * sw + down * h * 0.26f, s1 + u * sw * 0.3f + down * h * 0.3f) { Material = sacrum });
            s.Anatomy.Add(new EllipseShape(c + new Vector2(-a * w * 0.08f, -h * 0.05f), w * 0.22f, h * 0.17f, rng.Range(-0.3f, 0.3f)) { Material = new Material(0.12f, 0.3f, 8) });
            foreach (var v in new[] { t11, t12 })
            {
                var p0 = v.ToImage(-a * v.HalfWidth * 1.6f, 0);
                s.Anatomy.Add(new StrokeShape(StrokeShape.Bezier(p0, p0 + new Vector2(a * w * 0.25f, h * 0.02f), p0 + new Vector2(a * w * 0.55f, h * 0.12f)), 6)
                { Material = new Material(0.08f, 0.2f, 4) });
            }
        }
    }

    private static void AddNeckBones(SpineScene s, SynthRandom rng, float pitch)
    {
        int w = s.Width, h = s.Height;
        var top = s.Vertebrae[0];
        var bottom = s.Vertebrae[^1];
        if (s.View == SpineView.AP)
        {
            // Mandible and teeth across the top, clavicles and first ribs across the bottom, the trachea over the column.
            float my = top.Center.Y - pitch * rng.Range(0.75f, 0.95f);
            s.Anatomy.Add(new StrokeShape(StrokeShape.Bezier(new(w * 0.1f, my - h * 0.06f), new(w * 0.5f, my + h * 0.08f), new(w * 0.9f, my - h * 0.06f)), pitch * 0.22f)
            { Material = new Material(0.35f, 0.35f, 8, 0.1f) });
            foreach (int side in new[] { -1, 1 })
            {
                var p0 = bottom.ToImage(side * bottom.HalfWidth * 1.4f, bottom.HalfHeight * 1.2f);
                s.Anatomy.Add(new StrokeShape(StrokeShape.Bezier(p0, p0 + new Vector2(side * w * 0.2f, -h * 0.03f), p0 + new Vector2(side * w * 0.5f, -h * 0.08f)), pitch * 0.12f)
                { Material = new Material(0.25f, 0.35f, 6) });
                var r0 = bottom.ToImage(side * bottom.HalfWidth * 1.05f, -bottom.HalfHeight * 0.2f);
                s.Anatomy.Add(new StrokeShape(StrokeShape.Bezier(r0, r0 + new Vector2(side * w * 0.15f, -h * 0.04f), r0 + new Vector2(side * w * 0.3f, h * 0.06f)), 7)
                { Material = new Material(0.1f, 0.25f, 5) });
            }
            var col = s.Vertebrae.Select(v => v.ToImage(0, 0)).ToArray();
            s.Anatomy.Add(new StrokeShape(col, top.HalfWidth * 0.45f) { Material = new Material(-0.1f) });
        }
        else
        {
            int a = s.AnteriorSign;
            var c2 = s.Vertebrae[0];
            // Dens above C2, anterior arch of C1, skull base behind, mandible in front.
            s.Anatomy.Add(new EllipseShape(c2.ToImage(-a * c2.HalfWidth * 0.1f, -c2.HalfHeight * 1.6f), c2.HalfWidth * 0.35f, c2.HalfHeight * 0.85f, c2.Angle) { Material = s.BoneMaterial });
            s.Anatomy.Add(new EllipseShape(c2.ToImage(a * c2.HalfWidth * 0.85f, -c2.HalfHeight * 2.0f), c2.HalfWidth * 0.25f, c2.HalfHeight * 0.35f) { Material = new Material(0.3f, 0.35f, 5) });
            var occ = c2.ToImage(-a * c2.HalfWidth * 2.6f, -c2.HalfHeight * 4.2f);
            s.Anatomy.Add(new EllipseShape(occ, w * 0.32f, h * 0.13f, -a * 0.35f) { Material = new Material(0.35f, 0.5f, 12, 0.08f) });
            var m0 = c2.ToImage(a * c2.HalfWidth * 1.6f, -c2.HalfHeight * 3.2f);
            s.Anatomy.Add(new StrokeShape(StrokeShape.Bezier(m0, m0 + new Vector2(a * w * 0.05f, h * 0.12f), m0 + new Vector2(a * w * 0.35f, h * 0.14f)), pitch * 0.16f)
            { Material = new Material(0.32f, 0.35f, 7, 0.08f) });
            var trachea = s.Vertebrae.Skip(2).Select(v => v.ToImage(a * (v.HalfWidth * 1.9f), 0)).ToArray();
            s.Anatomy.Add(new StrokeShape(trachea, w * 0.03f) { Material = new Material(-0.25f) });
            // Shoulders overlapping the lowest levels.
            s.Anatomy.Add(new EllipseShape(new Vector2(bottom.Center.X - a * w * 0.05f, h * 1.02f), w * 0.55f, h * 0.12f) { Material = new Material(0.55f, 0.2f, 30) });
        }
    }

    /// <summary>A lead marker letter ("L" or "R") in a top corner, as on real films.</summary>
    private static void AddMarker(SpineScene s, SynthRandom rng)
    {
        string[] glyph = rng.Chance(0.5)
            ? ["1000", "1000", "1000", "1000", "1000", "1111"]
            : ["1110", "1001", "1110", "1010", "1001", "1001"];
        float cell = s.Width * 0.009f;
        bool right = rng.Chance(0.5);
        float x0 = right ? s.Width * rng.Range(0.86f, 0.9f) : s.Width * rng.Range(0.04f, 0.08f), y0 = s.Height * rng.Range(0.03f, 0.06f);
        var mat = new Material(1.6f);
        for (int r = 0; r < glyph.Length; r++)
            for (int c = 0; c < glyph[r].Length; c++)
                if (glyph[r][c] == '1')
                    s.Anatomy.Add(new RoundedBoxShape(new Vector2(x0 + (c + 0.5f) * cell, y0 + (r + 0.5f) * cell), cell / 2, cell / 2, 0) { Material = mat });
    }
}
