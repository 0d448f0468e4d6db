using System.Runtime.InteropServices;

namespace SpineXR.Diagnostics;

/// <summary>
/// Dedicated threads for work that should use only the CPU the models leave idle: decoding ahead of the models and
/// writing results behind them. On Linux each such thread lowers its own scheduling priority (nice +10, per thread), so
/// when it competes with libtorch's threads for a core the models win, and it still runs at full speed whenever a
/// core is idle (libtorch's intra-op threads leave gaps between and inside operators). A lowered thread cannot raise its
/// priority again, which is why these are dedicated threads and never thread-pool threads.
/// Elsewhere, or where the call is refused, the threads simply run at normal priority.
/// </summary>
public static partial class BackgroundThread
{
    /// <summary>Nice increment applied to background threads (0 = normal, 19 = lowest).</summary>
    public const int Niceness = 10;

    /// <summary>Starts <paramref name="body"/> on a new background thread at lowered priority; the task completes (or faults) with it.</summary>
    public static Task Run(string name, Action body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            LowerCurrentThreadPriority();
            try
            {
                body();
                done.SetResult();
            }
            catch (OperationCanceledException e)
            {
                done.SetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }

    /// <summary>Lowers the calling thread's priority by <see cref="Niceness"/>; true when the system accepted it.</summary>
    public static bool LowerCurrentThreadPriority()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            int tid = GetTid();
            int current = GetPriority(0, tid);
            return SetPriority(0, tid, Math.Min(19, current + Niceness)) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The calling thread's nice value (Linux), or null elsewhere.</summary>
    public static int? CurrentThreadNiceness() =>
        OperatingSystem.IsLinux() ? GetPriority(0, GetTid()) : null;

    // PRIO_PROCESS (0) with a thread id addresses that one thread on Linux (NPTL threads have their own nice value).
    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "getpriority")]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int prio);
}
