// The layering rules of docs/design.md "Layers", checked on the sources: namespaces form no cycle, the web project
// does not reference the libtorch project, and no two types share a name. Each rule is read from the files a
// developer edits (using directives, fully qualified names, project references), so a break names the file.
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace SpineXR.Cli.Tests;

public partial class ArchitectureTests
{
    private static readonly string Src = Path.Combine(DocsCommandLineTests.RepositoryRoot(), "src");

    /// <summary>One source file: its namespace and what it names from other namespaces.</summary>
    private sealed record SourceFile(string Path, string Namespace, string Text);

    private static List<SourceFile> Sources() =>
        Directory.EnumerateFiles(Src, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(p => (p, text: File.ReadAllText(p)))
            .Select(f => (f.p, f.text, ns: FileNamespace().Match(f.text)))
            .Where(f => f.ns.Success)
            .Select(f => new SourceFile(Path.GetRelativePath(Src, f.p), f.ns.Groups[1].Value, f.text))
            .ToList();

    /// <summary>Namespace edges A -> B with the files that make them: a using directive or a qualified name.</summary>
    private static Dictionary<string, Dictionary<string, SortedSet<string>>> Edges(List<SourceFile> files)
    {
        var known = files.Select(f => f.Namespace).ToHashSet(StringComparer.Ordinal);
        var edges = new Dictionary<string, Dictionary<string, SortedSet<string>>>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            var named = UsingDirective().Matches(f.Text).Select(m => m.Groups[1].Value)
                .Concat(QualifiedName().Matches(StripComments(f.Text)).Select(m => m.Groups[1].Value));
            foreach (string name in named)
            {
                // The longest known namespace the name starts with (a using static or alias names a type in it).
                string? target = null;
                for (string n = name; n.Length > 0; n = n.Contains('.') ? n[..n.LastIndexOf('.')] : "")
                    if (known.Contains(n)) { target = n; break; }
                // A namespace sees its enclosing namespaces without a using: those are not edges the rule is about.
                if (target == null || target == f.Namespace || f.Namespace.StartsWith(target + ".", StringComparison.Ordinal)) continue;
                if (!edges.TryGetValue(f.Namespace, out var to)) edges[f.Namespace] = to = new(StringComparer.Ordinal);
                if (!to.TryGetValue(target, out var why)) to[target] = why = new(StringComparer.Ordinal);
                why.Add(f.Path);
            }
        }
        return edges;
    }

    private static string StripComments(string text) => LineComment().Replace(text, "");

    /// <summary>Strongly connected components with more than one namespace (Tarjan).</summary>
    private static List<List<string>> Cycles(Dictionary<string, Dictionary<string, SortedSet<string>>> edges)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v); onStack.Add(v);
            foreach (string w in edges.TryGetValue(v, out var to) ? to.Keys : Enumerable.Empty<string>())
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); component.Add(x); } while (x != v);
            if (component.Count > 1) result.Add(component);
        }
        foreach (string v in edges.Keys.ToList())
            if (!index.ContainsKey(v)) Visit(v);
        return result;
    }

    [Fact]
    public void Namespaces_form_no_cycle()
    {
        var edges = Edges(Sources());
        Assert.True(edges.Count > 20, $"expected many namespace edges, found {edges.Count}");
        var problems = Cycles(edges).Select(c => "cycle " + string.Join(" <-> ", c.Order(StringComparer.Ordinal)) + ": " + string.Join("; ",
            from a in c from b in c
            where edges.TryGetValue(a, out var to) && to.ContainsKey(b)
            select $"{a} -> {b} ({string.Join(", ", edges[a][b].Take(3))})")).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_cycle_finder_finds_a_two_namespace_cycle()
    {
        var files = new List<SourceFile>
        {
            new("a.cs", "SpineXR.A", "using SpineXR.B;\nnamespace SpineXR.A;"),
            new("b.cs", "SpineXR.B", "namespace SpineXR.B;\nclass C { SpineXR.A.T t; } // SpineXR.C.T in a comment"),
            new("c.cs", "SpineXR.C", "using SpineXR.A;\nnamespace SpineXR.C;"),
        };
        var cycles = Cycles(Edges(files));
        Assert.Equal(["SpineXR.A", "SpineXR.B"], Assert.Single(cycles).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_web_project_does_not_reference_the_libtorch_project()
    {
        foreach (string project in new[] { "SpineXR.Web/SpineXR.Web.csproj", "SpineXR/SpineXR.csproj", "SpineXR.Dicom/SpineXR.Dicom.csproj" })
        {
            var references = XDocument.Load(Path.Combine(Src, project)).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension((string?)r.Attribute("Include") ?? "")).ToList();
            Assert.DoesNotContain("SpineXR.Vision", references);
            Assert.DoesNotContain("SpineXR.Cli", references);
        }
    }

    [Fact]
    public void No_two_types_share_a_name()
    {
        // Generated protobuf code (src/SpineXR.Vision/Onnx/Proto) nests types named as protoc names them.
        var declared = Sources().Where(f => !f.Path.Contains("Proto", StringComparison.Ordinal))
            .SelectMany(f => TopLevelType().Matches(f.Text).Select(m => (Name: m.Groups[1].Value, f.Path)))
            .ToList();
        Assert.True(declared.Count > 200, $"expected many types, found {declared.Count}");
        var namespaces = Sources().SelectMany(f => f.Namespace.Split('.')).ToHashSet(StringComparer.Ordinal);
        var problems = declared.GroupBy(t => t.Name).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(t => t.Path))}")
            .Concat(declared.Where(t => namespaces.Contains(t.Name)).Select(t => $"{t.Name} ({t.Path}) is also a namespace"))
            .ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex FileNamespace();

    // using X.Y; using static X.Y.T; using Alias = X.Y.T;
    [GeneratedRegex(@"^using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"\b(SpineXR(?:\.[A-Za-z]\w*)+)\b")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"//.*$", RegexOptions.Multiline)]
    private static partial Regex LineComment();

    // Types declared at the start of a line with no indentation: top level in a file-scoped namespace.
    [GeneratedRegex(@"^(?:public|internal)\s+(?:(?:static|sealed|abstract|readonly|partial)\s+)*(?:class|record|struct|interface|enum)\s+(?:struct\s+|class\s+)?(\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();
}
