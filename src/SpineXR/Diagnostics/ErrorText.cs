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

    /// <summary>
    /// <paramref name="message"/> without a leading "<paramref name="name"/>: " (readers prefix their messages with the
    /// file name; a caller that prints the name itself, or puts it in its own column, should not repeat it).
    /// </summary>
    public static string WithoutName(string message, string name) =>
        message.StartsWith(name + ": ", StringComparison.Ordinal) ? message[(name.Length + 2)..] : message;

    /// <summary>The one-line message of <paramref name="e"/> about <paramref name="file"/>, without the file name in front.</summary>
    public static string About(string file, Exception e) => WithoutName(OneLine(e), file);
}
