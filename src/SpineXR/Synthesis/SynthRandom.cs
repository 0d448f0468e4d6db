namespace SpineXR.Synthesis;

/// <summary>
/// xoshiro256** seeded through splitmix64: a small, fast generator whose sequence is fixed by its seed on every
/// platform and .NET version, so the same seed gives the same dataset bytes.
/// </summary>
public sealed class SynthRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spare;

    public SynthRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>A generator for one named stream of a seed (e.g. study 17's), independent of the others.</summary>
    public static SynthRandom For(long seed, string stream, long index) =>
        new(Data.StableHash.Of(seed, stream + "/" + index.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public float Range(double lo, double hi) => (float)(lo + (hi - lo) * NextDouble());

    /// <summary>Uniform integer in [lo, hi).</summary>
    public int Int(int lo, int hi) => hi <= lo ? lo : lo + (int)((NextULong() >> 1) % (ulong)(hi - lo));

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal (Box-Muller, both values used).</summary>
    public double Normal()
    {
        if (_spare is double s) { _spare = null; return s; }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>An index drawn with the given (unnormalised) weights.</summary>
    public int Pick(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (double w in weights) total += w;
        double x = NextDouble() * total;
        for (int i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0) return i;
        }
        return weights.Length - 1;
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Int(0, items.Count)];
}
