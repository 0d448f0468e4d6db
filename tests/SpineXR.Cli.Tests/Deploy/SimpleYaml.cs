using System.Text.Json;

namespace SpineXR.Cli.Tests.Deploy;

/// <summary>
/// Reads the YAML subset deploy/*.yaml is written in, for the manifest tests: block mappings and sequences by
/// indentation, `---` between documents, comments, plain scalars, and flow sequences of double-quoted strings
/// (which are JSON, and may span lines). Anything else is an error, so a manifest drifting out of the subset fails
/// its test rather than being misread. Mappings are dictionaries, sequences lists, scalars strings.
/// </summary>
internal static class SimpleYaml
{
    public static List<object> LoadAll(string path)
    {
        var docs = new List<object>();
        var current = new List<(int Indent, string Text)>();
        foreach (var raw in File.ReadAllLines(path))
        {
            if (raw.Trim() == "---") { docs.Add(Parse(current)); current = []; continue; }
            string line = StripComment(raw);
            if (line.Trim().Length == 0) continue;
            current.Add((line.Length - line.TrimStart().Length, line.Trim()));
        }
        if (current.Count > 0) docs.Add(Parse(current));
        return docs;
    }

    private static string StripComment(string line)
    {
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '"') quoted = !quoted;
            if (line[i] == '#' && !quoted && (i == 0 || line[i - 1] == ' ')) return line[..i].TrimEnd();
        }
        return line.TrimEnd();
    }

    private static object Parse(List<(int Indent, string Text)> lines)
    {
        int at = 0;
        var value = Block(lines, ref at, lines[0].Indent);
        if (at != lines.Count) throw new FormatException($"unexpected line '{lines[at].Text}'");
        return value;
    }

    private static object Block(List<(int Indent, string Text)> lines, ref int at, int indent)
    {
        if (lines[at].Text.StartsWith("- ", StringComparison.Ordinal) || lines[at].Text == "-")
        {
            var list = new List<object>();
            while (at < lines.Count && lines[at].Indent == indent && lines[at].Text.StartsWith('-'))
            {
                string rest = lines[at].Text[1..].TrimStart();
                if (rest.Contains(": ", StringComparison.Ordinal) || rest.EndsWith(':'))
                {
                    // "- key: value": a mapping whose first line shares the dash's line
                    lines[at] = (indent + 2, rest);
                    list.Add(Block(lines, ref at, indent + 2));
                }
                else { at++; list.Add(Scalar(rest, lines, ref at)); }
            }
            return list;
        }
        var map = new Dictionary<string, object>();
        while (at < lines.Count && lines[at].Indent == indent)
        {
            string text = lines[at].Text;
            int colon = text.IndexOf(':');
            if (colon <= 0 || text.StartsWith('-')) throw new FormatException($"expected 'key: value', got '{text}'");
            string key = text[..colon].Trim(), rest = text[(colon + 1)..].Trim();
            at++;
            if (rest.Length > 0) map[key] = Scalar(rest, lines, ref at);
            else if (at < lines.Count && lines[at].Indent > indent) map[key] = Block(lines, ref at, lines[at].Indent);
            else map[key] = "";
        }
        if (at < lines.Count && lines[at].Indent > indent) throw new FormatException($"unexpected indentation at '{lines[at].Text}'");
        return map;
    }

    private static object Scalar(string text, List<(int Indent, string Text)> lines, ref int at)
    {
        if (text.StartsWith('['))
        {
            while (!text.EndsWith(']')) text += " " + lines[at++].Text; // a flow sequence continued on the next lines
            return JsonSerializer.Deserialize<List<string>>(text)!.Cast<object>().ToList();
        }
        if (text.StartsWith('"')) return JsonSerializer.Deserialize<string>(text)!;
        if (text.StartsWith('{') || text.StartsWith('|') || text.StartsWith('>') || text.StartsWith('&') || text.StartsWith('*'))
            throw new FormatException($"'{text}' is outside the YAML subset the manifests use");
        return text;
    }

    /// <summary>The value at a dotted path ("spec.template.spec.containers"), or a test failure naming the path.</summary>
    public static object At(object node, string path)
    {
        foreach (var key in path.Split('.'))
        {
            var map = Assert.IsType<Dictionary<string, object>>(node);
            Assert.True(map.TryGetValue(key, out var next), $"no '{key}' in {path}");
            node = next!;
        }
        return node;
    }

    public static string Str(object node, string path) => Assert.IsType<string>(At(node, path));

    public static List<object> List(object node, string path) => Assert.IsType<List<object>>(At(node, path));
}
