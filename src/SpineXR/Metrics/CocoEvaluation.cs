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
    // Per class: kept detections sorted by (score desc, image asc, rank in image asc), as COCOeval's mergesort orders them.
    private readonly double[][] _score;
    private readonly int[][] _image;
    private readonly ulong[][] _matched; // bit t set = true positive at IoU threshold t
    // Runs = maximal groups of equal (score, image); a resample repeats a run as a block per copy of its image.
    private readonly int[][] _runStart;   // [class][run], plus the end
    private readonly int[][] _runImage;   // [class][run]
    private readonly int[][][] _runFp;    // [class][iou][run]: false positives in the run
    private readonly bool[][][] _runHasTp; // [class][iou][run]
    private readonly int[][] _truthPerImage; // [class][image]

    public IReadOnlyList<double> IouThresholds => _iou;
    public int NumImages => _numImages;
    public int NumClasses => _numClasses;

    public CocoEvaluation(int numImages, int numClasses, ReadOnlySpan<CocoTruth> truth, ReadOnlySpan<CocoDetection> detections,
        CocoEvalOptions? options = null)
    {
        options ??= new CocoEvalOptions();
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(numImages);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        _iou = options.IouThresholds.ToArray();
        _numImages = numImages;
        _numClasses = numClasses;

        var truthArr = truth.ToArray();
        var detArr = detections.ToArray();
        var gtKeys = new int[truthArr.Length];
        for (int i = 0; i < truthArr.Length; i++) gtKeys[i] = Key(truthArr[i].Image, truthArr[i].ClassId, "ground truth", i);
        var dtKeys = new int[detArr.Length];
        for (int i = 0; i < detArr.Length; i++)
        {
            if (double.IsNaN(detArr[i].Score)) throw new ArgumentException($"detection {i} has a NaN score");
            dtKeys[i] = Key(detArr[i].Image, detArr[i].ClassId, "detection", i);
        }
        // Bucket by (class, image) with a counting sort, keeping input order (COCO's annotation order) in each bucket.
        var (gtStart, gtIdx) = Buckets(gtKeys, numClasses * numImages);
        var (dtStart, dtIdx) = Buckets(dtKeys, numClasses * numImages);

        _score = new double[numClasses][];
        _image = new int[numClasses][];
        _matched = new ulong[numClasses][];
        _runStart = new int[numClasses][];
        _runImage = new int[numClasses][];
        _runFp = new int[numClasses][][];
        _runHasTp = new bool[numClasses][][];
        _truthPerImage = new int[numClasses][];
        Parallel.For(0, numClasses, k => BuildClass(k, gtStart, gtIdx, dtStart, dtIdx, truthArr, detArr, options.MaxDetections));
    }

    private int Key(int image, int cls, string what, int i)
    {
        if ((uint)image >= (uint)_numImages) throw new ArgumentException($"{what} {i}: image index {image} out of range");
        if ((uint)cls >= (uint)_numClasses) throw new ArgumentException($"{what} {i}: class id {cls} out of range");
        return cls * _numImages + image;
    }

    private static (int[] Start, int[] Index) Buckets(int[] keys, int buckets)
    {
        var start = new int[buckets + 1];
        foreach (int k in keys) start[k + 1]++;
        for (int b = 0; b < buckets; b++) start[b + 1] += start[b];
        var fill = start.AsSpan(0, buckets).ToArray();
        var idx = new int[keys.Length];
        for (int i = 0; i < keys.Length; i++) idx[fill[keys[i]]++] = i;
        return (start, idx);
    }

    /// <summary>Sorts <paramref name="items"/> by <paramref name="keys"/> ascending; equal keys keep ascending item order (a stable sort when items are positions).</summary>
    private static void SortStable(double[] keys, int[] items)
    {
        Array.Sort(keys, items);
        int i = 0;
        while (i < keys.Length)
        {
            int j = i + 1;
            while (j < keys.Length && keys[j] == keys[i]) j++;
            if (j - i > 1) Array.Sort(items, i, j - i);
            i = j;
        }
    }

    private void BuildClass(int k, int[] gtStart, int[] gtIdx, int[] dtStart, int[] dtIdx, CocoTruth[] truth, CocoDetection[] dets, int maxDets)
    {
        int T = _iou.Length;
        int cap = 0;
        for (int im = 0; im < _numImages; im++) cap += Math.Min(maxDets, dtStart[k * _numImages + im + 1] - dtStart[k * _numImages + im]);
        var scores = new double[cap];
        var images = new int[cap];
        var matched = new ulong[cap];
        int n = 0;
        var truthCount = new int[_numImages];
        var taken = new ulong[16]; // per truth box: bit t = matched at IoU t
        var ious = new double[16];
        double[] thr = _iou.Select(t => Math.Min(t, 1 - 1e-10)).ToArray();
        for (int im = 0; im < _numImages; im++)
        {
            int b = k * _numImages + im;
            int g0 = gtStart[b], ng = gtStart[b + 1] - g0;
            int d0 = dtStart[b], nAll = dtStart[b + 1] - d0;
            truthCount[im] = ng;
            if (nAll == 0) continue;
            // Stable descending sort by score (input order breaks ties), then keep maxDets.
            var keys = new double[nAll];
            var order = new int[nAll];
            for (int j = 0; j < nAll; j++) { order[j] = dtIdx[d0 + j]; keys[j] = -dets[order[j]].Score; }
            SortStable(keys, order);
            int nd = Math.Min(maxDets, nAll);
            if (taken.Length < ng) { taken = new ulong[ng]; ious = new double[ng]; }
            Array.Clear(taken, 0, ng);
            for (int r = 0; r < nd; r++)
            {
                var det = dets[order[r]];
                ulong bits = 0;
                if (ng > 0)
                {
                    for (int j = 0; j < ng; j++) ious[j] = CocoBox.Iou(det.Box, truth[gtIdx[g0 + j]].Box);
                    for (int t = 0; t < T; t++)
                    {
                        // Greedy: the unmatched truth with the highest IoU >= t (the last one on ties, as COCOeval).
                        double best = thr[t];
                        int m = -1;
                        ulong bit = 1UL << t;
                        for (int j = 0; j < ng; j++)
                        {
                            if ((taken[j] & bit) != 0 || ious[j] < best) continue;
                            best = ious[j]; m = j;
                        }
                        if (m >= 0) { taken[m] |= bit; bits |= bit; }
                    }
                }
                scores[n] = det.Score; images[n] = im; matched[n] = bits; n++;
            }
        }
        // Global order = mergesort of the per-image lists concatenated in image order.
        var gkeys = new double[n];
        var perm = new int[n];
        for (int j = 0; j < n; j++) { gkeys[j] = -scores[j]; perm[j] = j; }
        SortStable(gkeys, perm);
        var s = new double[n]; var ims = new int[n]; var mt = new ulong[n];
        var runs = new List<int>();
        for (int j = 0; j < n; j++)
        {
            s[j] = scores[perm[j]]; ims[j] = images[perm[j]]; mt[j] = matched[perm[j]];
            if (j == 0 || s[j] != s[j - 1] || ims[j] != ims[j - 1]) runs.Add(j);
        }
        runs.Add(n);
        int nr = runs.Count - 1;
        var runImage = new int[nr];
        var runFp = new int[T][];
        var runHasTp = new bool[T][];
        for (int t = 0; t < T; t++) { runFp[t] = new int[nr]; runHasTp[t] = new bool[nr]; }
        for (int r = 0; r < nr; r++)
        {
            runImage[r] = ims[runs[r]];
            for (int j = runs[r]; j < runs[r + 1]; j++)
                for (int t = 0; t < T; t++)
                    if ((mt[j] & (1UL << t)) != 0) runHasTp[t][r] = true; else runFp[t][r]++;
        }
        _score[k] = s; _image[k] = ims; _matched[k] = mt; _runStart[k] = runs.ToArray(); _truthPerImage[k] = truthCount;
        _runImage[k] = runImage; _runFp[k] = runFp; _runHasTp[k] = runHasTp;
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
        double[] q = new double[R];
        double[] pr = [];
        for (int k = 0; k < K; k++)
        {
            long ng = 0;
            int[] tpi = _truthPerImage[k];
            for (int im = 0; im < _numImages; im++) ng += (long)tpi[im] * counts[im];
            npig[k] = ng;
            if (ng == 0)
            {
                for (int t = 0; t < T; t++) { ap[t, k] = double.NaN; recall[t, k] = double.NaN; }
                continue;
            }
            if (pr.Length < ng) pr = new double[ng];
            for (int t = 0; t < T; t++)
            {
                recall[t, k] = Curve(k, t, counts, ng, q, pr);
                double sum = 0;
                for (int r = 0; r < R; r++) sum += q[r];
                ap[t, k] = sum / R;
                if (keepCurves) curves[t][k] = (double[])q.Clone();
            }
        }
        return new CocoResult(_iou, ap, recall, curves, npig);
    }

    /// <summary>
    /// COCOeval's accumulate for one class and IoU: fills the 101 interpolated precisions and returns the final recall.
    /// Interpolated precision at a recall point is the maximum precision at or after the first detection reaching that recall;
    /// that maximum is always attained at a true positive, so only true positives are materialised and false-positive runs are
    /// counted in bulk: one pass over the runs, no allocation.
    /// </summary>
    private double Curve(int k, int t, ReadOnlySpan<int> counts, long npig, double[] q, double[] pr)
    {
        int[] runStart = _runStart[k], runImage = _runImage[k], runFp = _runFp[k][t];
        bool[] runHasTp = _runHasTp[k][t];
        ulong[] mt = _matched[k];
        ulong bit = 1UL << t;
        double fp = 0;
        long tp = 0;
        bool any = false;
        int nr = runImage.Length;
        for (int r = 0; r < nr; r++)
        {
            int c = counts[runImage[r]];
            if (c == 0) continue;
            any = true;
            if (!runHasTp[r]) { fp += (double)c * runFp[r]; continue; }
            for (int rep = 0; rep < c; rep++)
                for (int j = runStart[r]; j < runStart[r + 1]; j++)
                {
                    if ((mt[j] & bit) != 0) { tp++; pr[tp - 1] = tp / (fp + tp + Eps); }
                    else fp++;
                }
        }
        double[] thr = CocoResult.RecallThresholds;
        if (!any) { Array.Clear(q); return 0; }
        for (long i = tp - 2; i >= 0; i--) if (pr[i + 1] > pr[i]) pr[i] = pr[i + 1];
        double inv = npig;
        long jt = 1; // candidate TP count reaching the recall point
        for (int ri = 0; ri < thr.Length; ri++)
        {
            if (thr[ri] <= 0) { q[ri] = tp > 0 ? pr[0] : 0; continue; } // searchsorted finds index 0
            while (jt <= tp && jt / inv < thr[ri]) jt++;
            q[ri] = jt <= tp ? pr[jt - 1] : 0;
        }
        return tp / inv;
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
