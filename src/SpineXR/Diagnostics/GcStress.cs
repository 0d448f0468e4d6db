// A switch that makes native-lifetime bugs show: with SPINEXR_GC_STRESS=1 a background thread forces full, blocking
// garbage collections and runs pending finalizers without pause. An object that owns native memory (TorchSharp's
// Scalar and Tensor) and is unreachable while a native call still reads it is then finalized, and its memory freed,
// within microseconds instead of "some time later": a use-after-free that would corrupt one step in a million fails
// at once. Outputs are unchanged by it (a collection does no arithmetic), so a stressed run must equal an unstressed
// one bit for bit. See docs/native.md, "Object lifetimes across native calls".

namespace SpineXR.Diagnostics;

/// <summary>Forces garbage collections and finalizers continuously on a background thread while running.</summary>
public static class GcStress
{
    /// <summary>Set to 1 (or true) to start the stress thread at program start (the CLI and the test hosts read it).</summary>
    public const string Variable = "SPINEXR_GC_STRESS";

    private static readonly object Gate = new();
    private static Thread? _thread;
    private static volatile bool _stop;
    private static long _collections;

    /// <summary>Full collections forced so far (to show a stressed run really was stressed).</summary>
    public static long Collections => Interlocked.Read(ref _collections);

    /// <summary>True while the stress thread runs.</summary>
    public static bool Running => _thread is { IsAlive: true };

    /// <summary>True when <see cref="Variable"/> asks for stress.</summary>
    public static bool Requested =>
        Environment.GetEnvironmentVariable(Variable) is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Starts the stress thread when <see cref="Requested"/>; returns whether it runs.</summary>
    public static bool StartIfRequested() => Requested && Start();

    /// <summary>Starts the stress thread (idempotent).</summary>
    public static bool Start()
    {
        lock (Gate)
        {
            if (Running) return true;
            _stop = false;
            _thread = new Thread(Loop) { IsBackground = true, Name = "spinexr-gc-stress", Priority = ThreadPriority.AboveNormal };
            _thread.Start();
            return true;
        }
    }

    /// <summary>Stops the stress thread and waits for it.</summary>
    public static void Stop()
    {
        Thread? t;
        lock (Gate)
        {
            t = _thread;
            _stop = true;
            _thread = null;
        }
        t?.Join();
    }

    private static void Loop()
    {
        while (!_stop)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            Interlocked.Increment(ref _collections);
        }
    }
}
