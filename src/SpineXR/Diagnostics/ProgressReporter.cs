using System.Diagnostics;

namespace SpineXR.Diagnostics;

/// <summary>
/// Progress for long work: a redrawn line with items/s and ETA on a terminal, a plain line every
/// few seconds when output is redirected. Thread-safe; call <see cref="Advance"/> from any worker.
/// </summary>
public sealed class ProgressReporter : IDisposable
{
    private readonly string _label;
    private readonly long _total;
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _plainEvery;
    private readonly TimeSpan? _timeLimit;
    private long _done;
    private long _drawnDone = -1;
    private long _lastDrawTicks;
    private string _extra = "";
    private readonly object _gate = new();

    /// <param name="label">What is being done ("convert").</param>
    /// <param name="total">Number of items, or 0 when unknown.</param>
    /// <param name="output">Where to write; stderr by default.</param>
    /// <param name="quiet">Draw nothing (tests, library use).</param>
    /// <param name="timeLimit">
    /// When the work stops at a time budget (training with max_minutes), the time left of it from now; the ETA is
    /// then the sooner of the two ends and says "(budget)" when that is the budget.
    /// </param>
    public ProgressReporter(string label, long total, TextWriter? output = null, bool quiet = false, TimeSpan? timeLimit = null)
    {
        _timeLimit = timeLimit;
        _label = label;
        _total = total;
        _out = quiet ? TextWriter.Null : output ?? Console.Error;
        _interactive = !quiet && output == null && !Console.IsErrorRedirected;
        _plainEvery = TimeSpan.FromSeconds(5);
    }

    public long Done => Interlocked.Read(ref _done);
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Items per second so far.</summary>
    public double Rate => Done / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);

    /// <summary>Sets a short status shown after the counts (e.g. "loss 0.231").</summary>
    public void SetStatus(string extra) { lock (_gate) _extra = extra; }

    public void Advance(long n = 1)
    {
        long done = Interlocked.Add(ref _done, n);
        long now = _clock.ElapsedTicks;
        long minGap = _interactive ? Stopwatch.Frequency / 5 : (long)(_plainEvery.TotalSeconds * Stopwatch.Frequency);
        long last = Interlocked.Read(ref _lastDrawTicks);
        if (now - last < minGap && done != _total) return;
        if (Interlocked.CompareExchange(ref _lastDrawTicks, now, last) != last) return;
        Draw(final: false);
    }

    private void Draw(bool final)
    {
        string line;
        lock (_gate)
        {
            long done = Done;
            double rate = Rate;
            string count = _total > 0 ? $"{done}/{_total}" : $"{done}";
            string eta = "";
            if (_total > 0 && rate > 0 && done < _total)
            {
                var left = TimeSpan.FromSeconds((_total - done) / rate);
                var budget = _timeLimit - _clock.Elapsed;
                eta = budget < left ? " ETA " + Format(budget.Value < TimeSpan.Zero ? TimeSpan.Zero : budget.Value) + " (budget)" : " ETA " + Format(left);
            }
            line = $"{_label}: {count} {rate:F1}/s {Format(_clock.Elapsed)}{eta} {_extra}".TrimEnd();
            // Redirected output: the closing line is not repeated when the last update already showed the end.
            if (final && !_interactive && _drawnDone == done) return;
            _drawnDone = done;
        }
        lock (_out)
        {
            if (_interactive) _out.Write("\r" + line.PadRight(Math.Min(119, Math.Max(line.Length, Console.WindowWidth - 1))) + (final ? "\n" : ""));
            else _out.WriteLine(line);
            _out.Flush();
        }
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss");

    public void Dispose()
    {
        if (_out != TextWriter.Null) Draw(final: true);
    }
}
