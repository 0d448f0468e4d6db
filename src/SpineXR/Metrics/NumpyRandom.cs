// Reproduces numpy's legacy RandomState stream (MT19937 seeded by init_genrand, randint by masked rejection),
// so a bootstrap seeded here draws exactly the resamples the official VinDr-SpineXR evaluator drew.
namespace SpineXR.Metrics;

/// <summary>numpy.random.RandomState(seed) for the draws the evaluators need: <c>randint(n, size=k)</c>.</summary>
public sealed class NumpyRandom
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _pos;

    /// <summary>As <c>np.random.RandomState(seed)</c> for an integer seed in [0, 2^32).</summary>
    public NumpyRandom(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < N; i++)
            _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i;
        _pos = N;
    }

    /// <summary>The next raw 32-bit output of MT19937.</summary>
    public uint NextUInt32()
    {
        if (_pos >= N) Twist();
        uint y = _mt[_pos++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
            _mt[i] = _mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908b0dfu : 0u);
        }
        _pos = 0;
    }

    /// <summary>One integer in [0, high), as <c>RandomState.randint(high)</c> draws it (high &lt;= 2^32).</summary>
    public int NextInt(int high)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(high, 1);
        uint rng = (uint)(high - 1);
        if (rng == 0) return 0;
        uint mask = rng;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
        uint v;
        while ((v = NextUInt32() & mask) > rng) { }
        return (int)v;
    }

    /// <summary>Fills <paramref name="dest"/> as <c>randint(high, size=dest.Length)</c>.</summary>
    public void FillInts(int high, Span<int> dest)
    {
        for (int i = 0; i < dest.Length; i++) dest[i] = NextInt(high);
    }
}
