using System.Numerics;
using SpineXR.Boxes;

namespace SpineXR.Synthesis;

/// <summary>
/// Places lesions of the seven classes on a scene so that each box is the truth: it is the bounding box of what
/// the lesion draws (plus a few pixels, as a radiologist's box), and drawing the lesion changes nothing outside it.
/// Sizes are chosen so a lesion stays visible when the image is shrunk to 256-384 pixels: boxes are at least about
/// 3.5% of the image side.
/// </summary>
public static class LesionPlanner
{
    public const int Osteophytes = 0, SurgicalImplant = 1, Spondylolisthesis = 2, ForaminalStenosis = 3,
        DiscSpaceNarrowing = 4, VertebralCollapse = 5, OtherLesions = 6;

    /// <summary>
    /// Relative frequency of each class as a lesion event of an abnormal image, in class order. Osteophyte events
    /// draw one to three spurs, so about 60% of boxes are osteophytes, roughly as in the VinDr-SpineXR test set.
    /// </summary>
    public static readonly double[] EventWeights = [0.42, 0.06, 0.09, 0.08, 0.16, 0.09, 0.10];

    /// <summary>Pixels added around drawn lesion bounds to make the ground-truth box.</summary>
    public const float BoxPad = 2;

    /// <summary>Tracks which vertebrae already carry a lesion that changes or covers them.</summary>
    public sealed class Occupancy
    {
        internal readonly HashSet<int> Used = [];
        internal readonly HashSet<(int, int, int)> Spurs = [];
    }

    /// <summary>
    /// Adds one lesion event of <paramref name="classId"/> (osteophytes: a cluster of one to three spurs);
    /// returns the number of boxes added (0 when no place fits, e.g. foraminal stenosis on an AP view).
    /// </summary>
    public static int AddEvent(SpineScene s, SynthRandom rng, int classId, Occupancy occ)
    {
        switch (classId)
        {
            case Osteophytes:
            {
                int n = 1 + (rng.Chance(0.5) ? 1 : 0) + (rng.Chance(0.25) ? 1 : 0), added = 0;
                for (int i = 0; i < n; i++) added += TryMany(s, rng, occ, () => Osteophyte(s, rng, occ));
                return added;
            }
            case SurgicalImplant:
            {
                var eligible = Eligible(s, 0).ToList();
                if (eligible.Count < 3) return 0;
                int levels = rng.Int(2, 4);
                int first = eligible[rng.Int(0, eligible.Count - levels + 1)];
                var names = Enumerable.Range(first, levels).Where(i => i < s.Vertebrae.Count).Select(i => s.Vertebrae[i].Name).ToList();
                return AddImplant(s, names, occ) ? 1 : 0;
            }
            case Spondylolisthesis: return TryMany(s, rng, occ, () => Slip(s, rng, occ));
            case ForaminalStenosis: return s.View == SpineView.Lateral ? TryMany(s, rng, occ, () => Stenosis(s, rng, occ)) : 0;
            case DiscSpaceNarrowing: return TryMany(s, rng, occ, () => NarrowDisc(s, rng, occ));
            case VertebralCollapse: return TryMany(s, rng, occ, () => Collapse(s, rng, occ));
            case OtherLesions: return TryMany(s, rng, occ, () => Spot(s, rng, occ));
            default: throw new ArgumentOutOfRangeException(nameof(classId));
        }
    }

    private static int TryMany(SpineScene s, SynthRandom rng, Occupancy occ, Func<SceneLesion?> make)
    {
        for (int attempt = 0; attempt < 12; attempt++)
        {
            var l = make();
            if (l != null && Inside(s, l.Box))
            {
                s.Lesions.Add(l);
                return 1;
            }
        }
        return 0;
    }

    private static bool Inside(SpineScene s, BoxF b) => b.X1 >= 2 && b.Y1 >= 2 && b.X2 <= s.Width - 2 && b.Y2 <= s.Height - 2;

    /// <summary>Vertebrae whose body lies inside the image with a margin, not yet used.</summary>
    private static IEnumerable<int> Eligible(SpineScene s, int margin, Occupancy? occ = null)
    {
        for (int i = 0; i < s.Vertebrae.Count; i++)
        {
            var b = new BodyShape(s.Vertebrae[i], default).Bounds;
            if (b.X1 >= margin && b.Y1 >= margin && b.X2 <= s.Width - margin && b.Y2 <= s.Height - margin && (occ == null || !occ.Used.Contains(i)))
                yield return i;
        }
    }

    private static int? PickVertebra(SpineScene s, SynthRandom rng, Occupancy occ, bool needNext = false)
    {
        var spurred = occ.Spurs.Select(t => t.Item1).ToHashSet();
        var list = Eligible(s, 20, occ).Where(i => !spurred.Contains(i) && (!needNext || (i + 1 < s.Vertebrae.Count && !occ.Used.Contains(i + 1) && !spurred.Contains(i + 1)))).ToList();
        return list.Count == 0 ? null : list[rng.Int(0, list.Count)];
    }

    private static BoxF Bounds(IEnumerable<Shape> shapes) => shapes.Select(x => x.Bounds).Aggregate(Sdf.Union);

    /// <summary>A bony spur at a vertebral corner, pointing outwards and towards the disc.</summary>
    private static SceneLesion? Osteophyte(SpineScene s, SynthRandom rng, Occupancy occ)
    {
        var list = Eligible(s, 20, occ).ToList();
        if (list.Count == 0) return null;
        int k = list[rng.Int(0, list.Count)];
        int side = s.View == SpineView.Lateral ? (rng.Chance(0.85) ? s.AnteriorSign : -s.AnteriorSign) : (rng.Chance(0.5) ? 1 : -1);
        int end = rng.Chance(0.5) ? 1 : -1;
        if (!occ.Spurs.Add((k, side, end))) return null;
        var v = s.Vertebrae[k];
        float hw = v.HalfWidth, hh = v.HalfHeight;
        float len = hh * rng.Range(0.65f, 0.95f), theta = rng.Range(0.35f, 0.85f);
        float bv = len * rng.Range(0.45f, 0.6f), bu = len * rng.Range(0.3f, 0.45f);
        var spur = new PolygonShape(
            v.ToImage(side * hw * 0.97f, end * (hh - bv)),
            v.ToImage(side * (hw - bu), end * (hh - 1)),
            v.ToImage(side * (hw + len * MathF.Cos(theta)), end * (hh + len * MathF.Sin(theta))))
        { Material = new Material(0.5f, 0.3f, 4, 0.1f) };
        var l = new SceneLesion { ClassId = Osteophytes, Box = Sdf.Pad(spur.Bounds, BoxPad), Note = $"osteophyte {v.Name}" };
        l.Overlays.Add(spur);
        return l;
    }

    /// <summary>The disc between a vertebra and the next narrowed: both endplates grow into it and turn sclerotic.</summary>
    private static SceneLesion? NarrowDisc(SpineScene s, SynthRandom rng, Occupancy occ)
    {
        if (PickVertebra(s, rng, occ, needNext: true) is not int k) return null;
        var a = s.Vertebrae[k];
        var b = s.Vertebrae[k + 1];
        float gap = Vector2.Distance(a.Center, b.Center) - a.HalfHeight - b.HalfHeight;
        if (gap < 8) return null;
        float e = gap * rng.Range(0.55f, 0.72f);
        var l = new SceneLesion
        {
            ClassId = DiscSpaceNarrowing, Note = $"disc space narrowing {a.Name}-{b.Name}",
            Box = Sdf.Pad(PointBounds(
                a.ToImage(-a.HalfWidth, 0.5f * a.HalfHeight), a.ToImage(a.HalfWidth, 0.5f * a.HalfHeight),
                a.ToImage(-a.HalfWidth, a.HalfHeight + e / 2), a.ToImage(a.HalfWidth, a.HalfHeight + e / 2),
                b.ToImage(-b.HalfWidth, -0.5f * b.HalfHeight), b.ToImage(b.HalfWidth, -0.5f * b.HalfHeight),
                b.ToImage(-b.HalfWidth, -b.HalfHeight - e / 2), b.ToImage(b.HalfWidth, -b.HalfHeight - e / 2)), BoxPad + 1),
        };
        l.BodyChanges.Add((k, new BodyChange(BottomExtend: e / 2)));
        l.BodyChanges.Add((k + 1, new BodyChange(TopExtend: e / 2)));
        var sclerosis = new Material(0.28f);
        l.Overlays.Add(new RoundedBoxShape(a.ToImage(0, a.HalfHeight + e / 2 - 4), a.HalfWidth * 0.85f, 3.5f, 2, a.Angle) { Material = sclerosis });
        l.Overlays.Add(new RoundedBoxShape(b.ToImage(0, -b.HalfHeight - e / 2 + 4), b.HalfWidth * 0.85f, 3.5f, 2, b.Angle) { Material = sclerosis });
        occ.Used.Add(k);
        occ.Used.Add(k + 1);
        return l;
    }

    /// <summary>A vertebral body slipped forwards (or backwards, or sideways on AP views) over the one below.</summary>
    private static SceneLesion? Slip(SpineScene s, SynthRandom rng, Occupancy occ)
    {
        if (PickVertebra(s, rng, occ, needNext: true) is not int k) return null;
        var v = s.Vertebrae[k];
        float shift = s.View == SpineView.Lateral
            ? (rng.Chance(0.8) ? s.AnteriorSign : -s.AnteriorSign) * v.HalfWidth * rng.Range(0.4f, 0.6f)
            : (rng.Chance(0.5) ? 1 : -1) * v.HalfWidth * rng.Range(0.3f, 0.42f);
        var change = new BodyChange(Slip: shift);
        var l = new SceneLesion
        {
            ClassId = Spondylolisthesis, Note = $"spondylolisthesis {v.Name}",
            Box = Sdf.Pad(Sdf.Union(new BodyShape(v, default).Bounds, new BodyShape(v, change).Bounds), BoxPad),
        };
        l.BodyChanges.Add((k, change));
        occ.Used.Add(k);
        return l;
    }

    /// <summary>A wedge (lateral: anterior height lost) or lateral-wedge (AP) compression of one body.</summary>
    private static SceneLesion? Collapse(SpineScene s, SynthRandom rng, Occupancy occ)
    {
        if (PickVertebra(s, rng, occ) is not int k) return null;
        var v = s.Vertebrae[k];
        float sign = s.View == SpineView.Lateral ? s.AnteriorSign : rng.Chance(0.5) ? 1 : -1;
        var change = new BodyChange(Collapse: rng.Range(0.42f, 0.6f), CollapseSign: sign);
        var l = new SceneLesion
        {
            ClassId = VertebralCollapse, Note = $"vertebral collapse {v.Name}",
            Box = Sdf.Pad(new BodyShape(v, default).Bounds, BoxPad),
        };
        l.BodyChanges.Add((k, change));
        // Compressed trabeculae look denser.
        l.Overlays.Add(new BodyShape(v, change) { Material = new Material(0.12f) });
        occ.Used.Add(k);
        return l;
    }

    /// <summary>Bony overgrowth (disc-osteophyte and facet hypertrophy) filling the neural foramen behind a disc.</summary>
    private static SceneLesion? Stenosis(SpineScene s, SynthRandom rng, Occupancy occ)
    {
        var list = s.Foramina.Keys.Where(k => !occ.Used.Contains(k) && Inside(s, Sdf.Pad(s.Foramina[k], 20))).ToList();
        if (list.Count == 0) return null;
        int k = list[rng.Int(0, list.Count)];
        var f = s.Foramina[k];
        float fw = f.Width, fh = f.Height, cx = (f.X1 + f.X2) / 2, cy = (f.Y1 + f.Y2) / 2;
        int a = s.AnteriorSign;
        var mat = new Material(0.42f, 0.3f, 5, 0.1f);
        var front = new EllipseShape(new Vector2(cx + a * fw * 0.22f, cy + fh * rng.Range(0.0f, 0.12f)), fw * rng.Range(0.42f, 0.5f), fh * rng.Range(0.25f, 0.32f), rng.Range(-0.3f, 0.3f)) { Material = mat };
        var back = new EllipseShape(new Vector2(cx - a * fw * 0.2f, cy - fh * rng.Range(0.08f, 0.16f)), fw * rng.Range(0.34f, 0.42f), fh * rng.Range(0.2f, 0.26f), rng.Range(-0.3f, 0.3f)) { Material = mat };
        var l = new SceneLesion
        {
            ClassId = ForaminalStenosis, Note = $"foraminal stenosis {s.Vertebrae[k].Name}-{s.Vertebrae[Math.Min(k + 1, s.Vertebrae.Count - 1)].Name}",
            Box = Sdf.Pad(Sdf.Union(front.Bounds, back.Bounds), BoxPad),
        };
        l.Overlays.Add(front);
        l.Overlays.Add(back);
        occ.Used.Add(k);
        return l;
    }

    /// <summary>A lytic (dark, with a thin sclerotic margin) or sclerotic (bright) focal lesion in a vertebral body.</summary>
    private static SceneLesion? Spot(SpineScene s, SynthRandom rng, Occupancy occ)
    {
        if (PickVertebra(s, rng, occ) is not int k) return null;
        var v = s.Vertebrae[k];
        float r = v.HalfHeight * rng.Range(0.4f, 0.52f);
        float u = rng.Range(-1, 1) * MathF.Max(0, v.HalfWidth * 0.85f - r), vv = rng.Range(-1, 1) * MathF.Max(0, v.HalfHeight * 0.85f - r);
        bool lytic = rng.Chance(0.6);
        var spot = new EllipseShape(v.ToImage(u, vv), r, r * rng.Range(0.85f, 1.1f), rng.Range(0, 3))
        { Material = lytic ? new Material(-0.36f, 0.22f, 4) : new Material(0.45f, 0, 1, 0.15f) };
        var l = new SceneLesion { ClassId = OtherLesions, Box = Sdf.Pad(spot.Bounds, BoxPad), Note = (lytic ? "lytic" : "sclerotic") + " lesion " + v.Name };
        l.Overlays.Add(spot);
        occ.Used.Add(k);
        return l;
    }

    /// <summary>
    /// Metal over the named levels: pedicle screws and rods (lumbar) or an anterior plate with screws (cervical).
    /// Levels are named so the AP and lateral views of one study show the same construct.
    /// </summary>
    public static bool AddImplant(SpineScene s, IReadOnlyList<string> levelNames, Occupancy occ)
    {
        var idx = levelNames.Select(n => s.Vertebrae.FindIndex(v => v.Name == n)).Where(i => i >= 0).ToList();
        if (idx.Count < 2) return false;
        var metal = new Material(2.6f, 0.4f, 3);
        var shapes = new List<Shape>();
        bool lumbar = s.Region == SpineRegion.Lumbar;
        int a = s.AnteriorSign;
        if (s.View == SpineView.Lateral)
        {
            var heads = new List<Vector2>();
            foreach (int k in idx)
            {
                var v = s.Vertebrae[k];
                float hw = v.HalfWidth, hh = v.HalfHeight;
                if (lumbar)
                {
                    float post = -a * (hw + 0.55f * hw + 0.36f * hw * 0.4f), front = a * 0.55f * hw;
                    shapes.Add(new RoundedBoxShape(v.ToImage((post + front) / 2, -0.3f * hh), MathF.Abs(front - post) / 2, 0.08f * hh + 3, 3, v.Angle) { Material = metal });
                    var head = v.ToImage(post, -0.3f * hh);
                    shapes.Add(new EllipseShape(head, 0.2f * hh + 4, 0.2f * hh + 4) { Material = metal });
                    heads.Add(head);
                }
                else
                {
                    float plate = a * (hw + 5);
                    shapes.Add(new RoundedBoxShape(v.ToImage((plate + a * 0.15f * hw) / 2, 0), MathF.Abs(plate - a * 0.15f * hw) / 2, 0.07f * hh + 3, 3, v.Angle) { Material = metal });
                    heads.Add(v.ToImage(plate, -0.6f * hh));
                    heads.Add(v.ToImage(plate, 0.6f * hh));
                }
            }
            shapes.Add(new StrokeShape(heads, lumbar ? 6 : 5) { Material = metal });
        }
        else
        {
            var left = new List<Vector2>();
            var right = new List<Vector2>();
            foreach (int k in idx)
            {
                var v = s.Vertebrae[k];
                float hw = v.HalfWidth, hh = v.HalfHeight;
                if (lumbar)
                {
                    foreach (int side in new[] { -1, 1 })
                    {
                        float entry = side * 0.85f * hw, tip = side * 0.2f * hw;
                        shapes.Add(new RoundedBoxShape(v.ToImage((entry + tip) / 2, -0.38f * hh), MathF.Abs(entry - tip) / 2, 0.09f * hh + 3, 3, v.Angle - side * 0.12f) { Material = metal });
                        var head = v.ToImage(entry, -0.38f * hh);
                        shapes.Add(new EllipseShape(head, 0.17f * hh + 4, 0.17f * hh + 4) { Material = metal });
                        (side < 0 ? left : right).Add(head);
                    }
                }
                else
                {
                    foreach (int side in new[] { -1, 1 })
                        shapes.Add(new EllipseShape(v.ToImage(side * 0.3f * hw, 0), 0.12f * hw + 3, 0.16f * hh + 3) { Material = metal });
                    left.Add(v.ToImage(-0.45f * hw, -0.8f * hh));
                    right.Add(v.ToImage(0.45f * hw, 0.8f * hh));
                }
            }
            if (lumbar)
            {
                shapes.Add(new StrokeShape(left, 6) { Material = metal });
                shapes.Add(new StrokeShape(right, 6) { Material = metal });
            }
            else
            {
                var top = s.Vertebrae[idx[0]];
                var bottom = s.Vertebrae[idx[^1]];
                var c = (top.ToImage(0, -0.85f * top.HalfHeight) + bottom.ToImage(0, 0.85f * bottom.HalfHeight)) / 2;
                float len = Vector2.Distance(top.ToImage(0, -0.85f * top.HalfHeight), bottom.ToImage(0, 0.85f * bottom.HalfHeight)) / 2;
                shapes.Add(new RoundedBoxShape(c, 0.42f * top.HalfWidth, len, 8, (top.Angle + bottom.Angle) / 2) { Material = new Material(0.9f, 0.5f, 4) });
            }
        }
        var box = Sdf.Pad(Bounds(shapes), BoxPad + 1);
        if (!Inside(s, box)) return false;
        var l = new SceneLesion { ClassId = SurgicalImplant, Box = box, Note = $"implant {levelNames[0]}-{levelNames[^1]}" };
        l.Overlays.AddRange(shapes);
        s.Lesions.Add(l);
        foreach (int k in idx) occ.Used.Add(k);
        return true;
    }

    private static BoxF PointBounds(params Vector2[] p) => new(p.Min(q => q.X), p.Min(q => q.Y), p.Max(q => q.X), p.Max(q => q.Y));
}
