namespace SpineXR.Diagnostics;

/// <summary>Error messages as the one line the command contract promises (logs, errors.csv, stderr).</summary>
public static class ErrorText
{
    /// <summary>The message of an exception and its inner ones on one line.</summary>
    public static string OneLine(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x != null; x = x.InnerException)
        {
            if (x is AggregateException { InnerExceptions.Count: 1 }) continue;
            // Inner messages already quoted by an outer one (path-prefixed re-throws) are not repeated.
            if (!parts.Any(q => q.Contains(x.Message, StringComparison.Ordinal))) parts.Add(x.Message);
        }
        return string.Join(": ", parts).Replace('\n', ' ').Replace('\r', ' ');
    }
}
