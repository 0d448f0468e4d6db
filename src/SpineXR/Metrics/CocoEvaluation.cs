// COCO-style detection AP following pycocotools' COCOeval (bbox, area range "all", no crowd regions):
// per image and class the maxDets highest-scoring detections (stable sort), greedy matching in score order to the
// unmatched ground truth with the highest IoU >= t (IoU without +1, threshold capped at 1 - 1e-10), detections of all
// images merged by a stable sort on score (images in the given order), precision tp / (tp + fp + eps) made monotone,
// sampled at 101 recall points (searchsorted left), classes without ground truth left out of the mean.
namespace SpineXR.Metrics;

/// <summary>A box in COCO's [x, y, w, h], absolute pixels, double precision as COCO's JSON numbers.</summary>
public readonly record struct CocoBox(double X, double Y, double W, double H)
{
    public double Area => W * H;

    /// <summary>IoU as pycocotools' maskUtils.iou for boxes (no +1, 0 when the boxes do not overlap).</summary>
    public static double Iou(in CocoBox d, in CocoBox g)
    {
        double w = Math.Min(d.X + d.W, g.X + g.W) - Math.Max(d.X, g.X);
        if (w <= 0) return 0;
        double h = Math.Min(d.Y + d.H, g.Y + g.H) - Math.Max(d.Y, g.Y);
        if (h <= 0) return 0;
        double i = w * h;
        return i / (d.Area + g.Area - i);
    }
}

/// <summary>A ground-truth box: image index (into the evaluated image list), class id, box.</summary>
public readonly record struct CocoTruth(int Image, int ClassId, CocoBox Box);

/// <summary>A detection: image index, class id, box, score.</summary>
public readonly record struct CocoDetection(int Image, int ClassId, CocoBox Box, double Score);

/// <summary>Options of <see cref="CocoEvaluation"/>.</summary>
public sealed record CocoEvalOptions
{
    /// <summary>IoU thresholds; the paper reports AP at 0.5 (the official config evaluates 0.2, 0.25, ..., 0.5).</summary>
    public IReadOnlyList<double> IouThresholds { get; init; } = [0.5];

    /// <summary>Detections kept per image and class (COCOeval's maxDets[-1]).</summary>
    public int MaxDetections { get; init; } = 100;

    public void Validate()
    {
        if (IouThresholds.Count is 0 or > 64) throw new ArgumentException("1 to 64 thresholds", nameof(IouThresholds));
        foreach (double t in IouThresholds)
            if (!(t > 0 && t <= 1)) throw new ArgumentException($"IoU threshold {t} is not in (0, 1]", nameof(IouThresholds));
        if (MaxDetections < 1) throw new ArgumentException("must be >= 1", nameof(MaxDetections));
    }
}

/// <summary>AP per IoU threshold and class (NaN for a class without ground truth), and the curves behind it.</summary>
public sealed record CocoResult(IReadOnlyList<double> IouThresholds, double[,] Ap, double[,] Recall, double[][][] Precision, long[] TruthPerClass)
{
    /// <summary>COCO's 101 recall points, as np.linspace(0, 1, 101).</summary>
    public static readonly double[] RecallThresholds = Enumerable.Range(0, 101).Select(i => i == 100 ? 1.0 : i * 0.01).ToArray();

    public int NumClasses => Ap.GetLength(1);

    /// <summary>Mean AP over the classes that have ground truth at IoU index <paramref name="t"/> (NaN when none has).</summary>
    public double MeanAp(int t)
    {
        double s = 0; int n = 0;
        for (int k = 0; k < NumClasses; k++) if (!double.IsNaN(Ap[t, k])) { s += Ap[t, k]; n++; }
        return n > 0 ? s / n : double.NaN;
    }

    /// <summary>AP of class k averaged over the IoU thresholds (COCO's "AP").</summary>
    public double ApOverIous(int k)
    {
        double s = 0;
        for (int t = 0; t < IouThresholds.Count; t++) s += Ap[t, k];
        return s / IouThresholds.Count;
    }

    /// <summary>mAP averaged over the IoU thresholds.</summary>
    public double MeanApOverIous()
    {
        double s = 0;
        for (int t = 0; t < IouThresholds.Count; t++) s += MeanAp(t);
        return s / IouThresholds.Count;
    }
}

/// <summary>
/// Matches detections to ground truth once (per image and class), then accumulates AP for any multiset of the images,
/// so a bootstrap resample costs one linear pass.
/// </summary>
public sealed class CocoEvaluation
{
    private const double Eps = 2.220446049250313e-16; // np.spacing(1)

    private readonly double[] _iou;
    private readonly int _numClasses, _numImages;
    // Per class: entries sorted by (score desc, image asc, rank in image asc); runs = equal (score, image) groups.
    private readonly double[][] _score;
    private readonly int[][] _image;
    private readonly ulong[][] _matched; // bit t set = true positive at IoU threshold t
    private readonly int[][] _runStart;
    private readonly int[][] _truthPerImage; // [class][image]

    public IReadOnlyList<double> IouThresholds => _iou;
    public int NumImages => _numImages;
    public int NumClasses => _numClasses;

    public CocoEvaluation(int numImages, int numClasses, ReadOnlySpan<CocoTruth> truth, ReadOnlySpan<CocoDetection> detections,
        CocoEvalOptions? options = null)
    {
        options ??= new CocoEvalOptions();
        options.Validate();
        _iou = options.IouThresholds.ToArray();
        _numImages = numImages;
        _numClasses = numClasses;

        var truthArr = truth.ToArray();
        var detArr = detections.ToArray();
        for (int i = 0; i < detArr.Length; i++)
            if (double.IsNaN(detArr[i].Score)) throw new ArgumentException($"detection {i} has a NaN score");
        // Bucket by (class, image), keeping input order (COCO's annotation order).
        var gtBuckets = Bucket(truthArr.Length, numImages, numClasses, i => truthArr[i].Image, i => truthArr[i].ClassId, "ground truth");
        var dtBuckets = Bucket(detArr.Length, numImages, numClasses, i => detArr[i].Image, i => detArr[i].ClassId, "detection");

        _score = new double[numClasses][];
        _image = new int[numClasses][];
        _matched = new ulong[numClasses][];
        _runStart = new int[numClasses][];
        _truthPerImage = new int[numClasses][];
        Parallel.For(0, numClasses, k => BuildClass(k, gtBuckets[k], dtBuckets[k], truthArr, detArr, options.MaxDetections));
    }

    private static List<int>[][] Bucket(int n, int numImages, int numClasses, Func<int, int> image, Func<int, int> cls, string what)
    {
        var b = new List<int>[numClasses][];
        for (int k = 0; k < numClasses; k++) b[k] = new List<int>[numImages];
        for (int i = 0; i < n; i++)
        {
            int im = image(i), k = cls(i);
            if ((uint)im >= (uint)numImages) throw new ArgumentException($"{what} {i}: image index {im} out of range");
            if ((uint)k >= (uint)numClasses) throw new ArgumentException($"{what} {i}: class id {k} out of range");
            (b[k][im] ??= []).Add(i);
        }
        return b;
    }

    private void BuildClass(int k, List<int>[] gtByImage, List<int>[] dtByImage, CocoTruth[] truth, CocoDetection[] dets, int maxDets)
    {
        int T = _iou.Length;
        var scores = new List<double>();
        var images = new List<int>();
        var matched = new List<ulong>();
        var truthCount = new int[_numImages];
        var gtm = new bool[T][];
        for (int im = 0; im < _numImages; im++)
        {
            List<int>? g = gtByImage[im], d = dtByImage[im];
            int ng = g?.Count ?? 0;
            truthCount[im] = ng;
            if (d == null) continue;
            // Stable descending sort by score (input order breaks ties), then keep maxDets.
            int[] order = d.ToArray();
            Array.Sort(order, (a, b) => { int c = dets[b].Score.CompareTo(dets[a].Score); return c != 0 ? c : a.CompareTo(b); });
            int nd = Math.Min(maxDets, order.Length);
            for (int t = 0; t < T; t++) { if (gtm[t] == null || gtm[t].Length < ng) gtm[t] = new bool[Math.Max(ng, 4)]; Array.Clear(gtm[t], 0, ng); }
            for (int r = 0; r < nd; r++)
            {
                var det = dets[order[r]];
                ulong bits = 0;
                for (int t = 0; t < T; t++)
                {
                    double best = Math.Min(_iou[t], 1 - 1e-10);
                    int m = -1;
                    for (int j = 0; j < ng; j++)
                    {
                        if (gtm[t][j]) continue;
                        double iou = CocoBox.Iou(det.Box, truth[g![j]].Box);
                        if (iou < best) continue;
                        best = iou; m = j;
                    }
                    if (m >= 0) { gtm[t][m] = true; bits |= 1UL << t; }
                }
                scores.Add(det.Score); images.Add(im); matched.Add(bits);
            }
        }
        // Global order = mergesort of the per-image lists concatenated in image order.
        int n = scores.Count;
        var idx = Enumerable.Range(0, n).ToArray();
        var sc = scores.ToArray();
        Array.Sort(idx, (a, b) =>
        {
            int c = sc[b].CompareTo(sc[a]);
            return c != 0 ? c : a.CompareTo(b); // entries were appended in (image, rank) order
        });
        var s = new double[n]; var ims = new int[n]; var mt = new ulong[n];
        var runs = new List<int>();
        for (int j = 0; j < n; j++)
        {
            s[j] = sc[idx[j]]; ims[j] = images[idx[j]]; mt[j] = matched[idx[j]];
            if (j == 0 || s[j] != s[j - 1] || ims[j] != ims[j - 1]) runs.Add(j);
        }
        runs.Add(n);
        _score[k] = s; _image[k] = ims; _matched[k] = mt; _runStart[k] = runs.ToArray(); _truthPerImage[k] = truthCount;
    }

    /// <summary>AP over all images once each (pycocotools' result).</summary>
    public CocoResult Evaluate()
    {
        var counts = new int[_numImages];
        counts.AsSpan().Fill(1);
        return Accumulate(counts, keepCurves: true);
    }

    /// <summary>AP over a multiset of images: image i counted <paramref name="counts"/>[i] times (copies adjacent, in image order).</summary>
    public CocoResult Accumulate(ReadOnlySpan<int> counts, bool keepCurves = false)
    {
        if (counts.Length != _numImages) throw new ArgumentException("one count per image");
        int T = _iou.Length, K = _numClasses, R = CocoResult.RecallThresholds.Length;
        var ap = new double[T, K];
        var recall = new double[T, K];
        var curves = new double[T][][];
        for (int t = 0; t < T; t++) curves[t] = new double[K][];
        var npig = new long[K];
        var buf = new Buffers();
        for (int k = 0; k < K; k++)
        {
            long ng = 0;
            int[] tpi = _truthPerImage[k];
            for (int im = 0; im < _numImages; im++) ng += (long)tpi[im] * counts[im];
            npig[k] = ng;
            for (int t = 0; t < T; t++)
            {
                if (ng == 0) { ap[t, k] = double.NaN; recall[t, k] = double.NaN; continue; }
                double[] q = keepCurves ? new double[R] : buf.Q(R);
                int nd = Curve(k, t, counts, ng, q, buf, out double rcLast);
                recall[t, k] = nd > 0 ? rcLast : 0;
                double sum = 0;
                for (int r = 0; r < R; r++) sum += q[r];
                ap[t, k] = sum / R;
                if (keepCurves) curves[t][k] = q;
            }
        }
        return new CocoResult(_iou, ap, recall, curves, npig);
    }

    private sealed class Buffers
    {
        public double[] Rc = new double[1024], Pr = new double[1024];
        private double[]? _q;
        public double[] Q(int r) => _q ??= new double[r];
        public void Ensure(int n)
        {
            if (Rc.Length >= n) return;
            int m = Math.Max(n, Rc.Length * 2);
            Rc = new double[m]; Pr = new double[m];
        }
    }

    private int Curve(int k, int t, ReadOnlySpan<int> counts, long npig, double[] q, Buffers buf, out double rcLast)
    {
        double[] s = _score[k];
        int[] ims = _image[k], runs = _runStart[k];
        ulong[] mt = _matched[k];
        ulong bit = 1UL << t;
        long total = 0;
        for (int j = 0; j < s.Length; j++) total += counts[ims[j]];
        buf.Ensure((int)Math.Min(int.MaxValue, total));
        double[] rc = buf.Rc, pr = buf.Pr;
        double tp = 0, fp = 0;
        int nd = 0;
        double inv = npig;
        for (int r = 0; r + 1 < runs.Length; r++)
        {
            int a = runs[r], b = runs[r + 1];
            int c = counts[ims[a]];
            for (int rep = 0; rep < c; rep++)
                for (int j = a; j < b; j++)
                {
                    if ((mt[j] & bit) != 0) tp++; else fp++;
                    rc[nd] = tp / inv;
                    pr[nd] = tp / (fp + tp + Eps);
                    nd++;
                }
        }
        rcLast = nd > 0 ? rc[nd - 1] : 0;
        for (int i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
        double[] thr = CocoResult.RecallThresholds;
        int p = 0;
        for (int ri = 0; ri < thr.Length; ri++)
        {
            while (p < nd && rc[p] < thr[ri]) p++; // np.searchsorted(rc, thr, side="left")
            q[ri] = p < nd ? pr[p] : 0;
        }
        return nd;
    }

    /// <summary>
    /// FROC over all classes pooled at IoU index <paramref name="t"/>: sensitivity (matched ground truth / all ground truth)
    /// at each rate of false positives per image, taking the best cut between distinct scores whose FP/image does not exceed it.
    /// </summary>
    public double[] Froc(IReadOnlyList<double> fpPerImage, int t = 0)
    {
        var all = new List<(double Score, bool Tp)>();
        long ng = 0;
        ulong bit = 1UL << t;
        for (int k = 0; k < _numClasses; k++)
        {
            foreach (int c in _truthPerImage[k]) ng += c;
            for (int j = 0; j < _score[k].Length; j++) all.Add((_score[k][j], (_matched[k][j] & bit) != 0));
        }
        all.Sort((a, b) => b.Score.CompareTo(a.Score));
        var result = new double[fpPerImage.Count];
        if (ng == 0) { Array.Fill(result, double.NaN); return result; }
        double tp = 0, fp = 0;
        int i = 0;
        while (true)
        {
            double sens = tp / ng, rate = fp / _numImages;
            for (int r = 0; r < result.Length; r++) if (rate <= fpPerImage[r] && sens > result[r]) result[r] = sens;
            if (i >= all.Count) break;
            double sc = all[i].Score;
            while (i < all.Count && all[i].Score == sc) { if (all[i].Tp) tp++; else fp++; i++; }
        }
        return result;
    }

    /// <summary>
    /// Bootstrap of mAP (at each IoU threshold, and averaged over them) over images: numpy RandomState(seed).randint(N, size=N)
    /// per resample; resamples in which no class has ground truth are redrawn. Runs resamples in parallel, draws in order.
    /// </summary>
    /// <param name="meanOver">IoU indices averaged for <c>OverIous</c>; null = all.</param>
    public (Interval[] PerIou, Interval OverIous, int Skipped) BootstrapMap(int resamples, uint seed = 1999, double ci = 0.95,
        IReadOnlyList<int>? meanOver = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        int[] sel = meanOver?.ToArray() ?? Enumerable.Range(0, _iou.Length).ToArray();
        int n = _numImages, T = _iou.Length;
        var rng = new NumpyRandom(seed);
        var draws = new List<int[]>(resamples);
        int skipped = 0;
        while (draws.Count < resamples)
        {
            var c = new int[n];
            for (int i = 0; i < n; i++) c[rng.NextInt(n)]++;
            bool any = false;
            for (int k = 0; k < _numClasses && !any; k++)
                for (int im = 0; im < n; im++) if (c[im] > 0 && _truthPerImage[k][im] > 0) { any = true; break; }
            if (!any) { skipped++; continue; }
            draws.Add(c);
        }
        var per = new double[T][];
        for (int t = 0; t < T; t++) per[t] = new double[resamples];
        var over = new double[resamples];
        Parallel.For(0, resamples, b =>
        {
            CocoResult r = Accumulate(draws[b]);
            for (int t = 0; t < T; t++) per[t][b] = r.MeanAp(t);
            double m = 0;
            foreach (int t in sel) m += r.MeanAp(t);
            over[b] = m / sel.Length;
        });
        var ivs = new Interval[T];
        for (int t = 0; t < T; t++) ivs[t] = Percentile.MeanCi(per[t], ci);
        return (ivs, Percentile.MeanCi(over, ci), skipped);
    }
}
