// Every `spinexr ...` command line quoted in README.md and docs/*.md must parse: the sub-command exists and each
// --option it uses is one that command declares (its Flags or its --help text). Keeps the docs honest as commands change.
using System.Text;
using System.Text.RegularExpressions;

namespace SpineXR.Cli.Tests;

public partial class DocsCommandLineTests
{
    private static readonly string[] Global = ["help", "verbose"];

    /// <summary>A command line found in a document: where it is and its text (continuations joined).</summary>
    public sealed record Quoted(string File, int Line, string Text);

    [Fact]
    public void Every_quoted_command_line_names_a_command_and_its_known_options()
    {
        var quoted = FindCommandLines(RepositoryRoot()).ToList();
        Assert.True(quoted.Count >= 30, $"expected the docs to quote many command lines, found {quoted.Count}");
        var problems = new List<string>();
        var commandsSeen = new HashSet<string>();
        foreach (var q in quoted)
        {
            string? problem = Check(q.Text, out string? command);
            if (command != null) commandsSeen.Add(command);
            if (problem != null) problems.Add($"{q.File}:{q.Line}: {problem}: {q.Text}");
        }
        Assert.True(problems.Count == 0, "command lines in the docs that do not parse:\n" + string.Join('\n', problems));
        // The docs show every command at least once.
        var missing = Program.Commands.Select(c => c.Name).Where(n => !commandsSeen.Contains(n)).ToList();
        Assert.True(missing.Count == 0, "commands never quoted in README.md or docs/*.md: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_quoted_training_override_names_a_configuration_key()
    {
        // key=value words of the quoted `train` lines bind as they did before the configurations were split (issue 19):
        // a flat key is routed to the section that owns it, section.key names it directly
        var problems = new List<string>();
        int seen = 0;
        foreach (var q in FindCommandLines(RepositoryRoot()))
        {
            if (Check(q.Text, out string? command) != null || command is not ("train classifier" or "train detector")) continue;
            foreach (var word in Tokens(q.Text).SkipWhile(t => t is not ("./spinexr" or "spinexr")).Where(t => OverrideWord().IsMatch(t) && t != "key=value"))
            {
                string key = word[..word.IndexOf('=')];
                seen++;
                bool known = command == "train classifier"
                    ? SpineXR.Vision.Configuration.ConfigBinder.Knows<SpineXR.Vision.Configuration.ClassifierTrainConfig>(key)
                    : SpineXR.Vision.Configuration.ConfigBinder.Knows<SpineXR.Vision.Configuration.DetectorTrainConfig>(key);
                if (!known) problems.Add($"{q.File}:{q.Line}: '{key}' is not a {command} key: {q.Text}");
            }
        }
        Assert.True(seen >= 3, $"expected the docs to quote training overrides, found {seen}");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [InlineData("./spinexr predict in/ --classifier a --detector b --out o --tta", null)]
    [InlineData("./spinexr dicom convert in/ --out pngs/ [--bits 8|16] [--workers N]", null)]
    [InlineData("./spinexr eval detector --data D --predictions p.json --out o [--iou 0.5 | 0.3,0.5 | 0.2:0.5]", null)]
    [InlineData("./spinexr train detector --arch faster-rcnn --data D --out R max_minutes=12 | tee log", null)]
    [InlineData("./spinexr --help", null)]
    [InlineData("spinexr eval", null)]
    [InlineData("spinexr eval --bits 8", "no command 'eval'")]
    [InlineData("./spinexr predict in/ --bogus", "--bogus is not an option of 'predict'")]
    [InlineData("./spinexr dicom infos x.dcm", "no command 'dicom infos'")]
    public void The_checker_itself(string line, string? expected)
    {
        Assert.Equal(expected, Check(line, out _));
    }

    /// <summary>Checks one command line as Program.Run would route it; returns the problem, or null when it parses.</summary>
    private static string? Check(string line, out string? commandName)
    {
        commandName = null;
        var tokens = Tokens(line);
        int start = tokens.FindIndex(t => t is "./spinexr" or "spinexr");
        if (start < 0) return "no spinexr command";
        var args = tokens.Skip(start + 1).ToList();
        if (args.Count == 0 || args[0] is "--help" or "-h" or "--version") return null;
        var words = args.TakeWhile(a => !a.StartsWith('-')).ToList();
        ICliCommand? cmd = null;
        int taken = 0;
        foreach (var c in Program.Commands)
        {
            var parts = c.Name.Split(' ');
            if (parts.Length <= words.Count && parts.Length > taken && parts.SequenceEqual(words.Take(parts.Length)))
            {
                cmd = c;
                taken = parts.Length;
            }
        }
        if (cmd == null)
        {
            // A group word alone (`spinexr eval`) lists that group's commands, as Program.Run does.
            bool group = words.Count == 1 && Program.Commands.Any(c => c.Name.StartsWith(words[0] + " ", StringComparison.Ordinal));
            return group && args.Skip(1).All(a => a is "--help" or "-h") ? null : $"no command '{string.Join(' ', words.Take(2))}'";
        }
        commandName = cmd.Name;
        var known = KnownOptions(cmd);
        foreach (var a in args.Skip(taken))
        {
            if (a == "-h") continue;
            var m = OptionName().Match(a);
            if (!m.Success) continue;
            if (!known.Contains(m.Groups[1].Value)) return $"--{m.Groups[1].Value} is not an option of '{cmd.Name}'";
        }
        return null;
    }

    /// <summary>The options a command declares: its value-less Flags, every --name its help text shows, and the global ones.</summary>
    private static HashSet<string> KnownOptions(ICliCommand cmd)
    {
        var known = new HashSet<string>(cmd.Flags, StringComparer.Ordinal);
        foreach (Match m in HelpOption().Matches(cmd.Help)) known.Add(m.Groups[1].Value);
        known.UnionWith(Global);
        return known;
    }

    // Shell-like words of one line: brackets, parentheses and quotes of usage syntax dropped; stops at a pipe, a
    // redirection or the next command (outside brackets), and at a comment.
    private static List<string> Tokens(string line)
    {
        var result = new List<string>();
        int depth = 0;
        foreach (var raw in line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (raw.StartsWith('#')) break;
            if (depth == 0 && (raw is "|" or "||" or "&&" or ";" or "&" or ">" or ">>" or "2>" or "2>&1" || raw.StartsWith('>'))) break;
            depth += raw.Count(ch => ch is '[' or '(') - raw.Count(ch => ch is ']' or ')');
            if (depth < 0) depth = 0;
            string t = raw.Trim('[', ']', '(', ')', '\'', '"', '`', ',', ';');
            if (t.Length > 0) result.Add(t);
        }
        return result;
    }

    /// <summary>Command lines in fenced code blocks (continuation lines joined) and in inline code of every doc.</summary>
    public static IEnumerable<Quoted> FindCommandLines(string root)
    {
        var files = new List<string> { Path.Combine(root, "README.md") };
        files.AddRange(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").OrderBy(f => f, StringComparer.Ordinal));
        foreach (var file in files)
        {
            string rel = Path.GetRelativePath(root, file);
            var lines = File.ReadAllLines(file);
            bool inFence = false;
            for (int i = 0; i < lines.Length; i++)
            {
                string l = lines[i];
                if (l.TrimStart().StartsWith("```", StringComparison.Ordinal)) { inFence = !inFence; continue; }
                if (inFence)
                {
                    int first = i;
                    var sb = new StringBuilder(l);
                    while (sb.ToString().TrimEnd().EndsWith('\\') && i + 1 < lines.Length)
                    {
                        string s = sb.ToString().TrimEnd();
                        sb.Clear().Append(s[..^1]).Append(' ').Append(lines[++i].Trim());
                    }
                    string joined = sb.ToString();
                    var m = FencedCommand().Match(joined);
                    if (m.Success) yield return new Quoted(rel, first + 1, joined[m.Index..].Trim());
                    continue;
                }
                foreach (Match span in InlineCode().Matches(l))
                {
                    string code = span.Groups[1].Value.Trim();
                    if (InlineCommand().IsMatch(code)) yield return new Quoted(rel, i + 1, code);
                }
            }
        }
    }

    /// <summary>The folder holding SpineXR.sln, found from the test binaries upwards.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SpineXR.sln"))) return dir.FullName;
        throw new InvalidOperationException("SpineXR.sln not found above " + AppContext.BaseDirectory);
    }

    // `./spinexr WORD` anywhere in a code line, or `spinexr WORD` starting a command (line start or after a prompt).
    [GeneratedRegex(@"(?:(?<![\w/.-])\./spinexr(?=\s|$)|(?:^|(?<=^\$ ))\s*spinexr\s+[a-z-])")]
    private static partial Regex FencedCommand();

    // Inline code that is a command line: `./spinexr ...` or `spinexr WORD ...` with at least one word.
    [GeneratedRegex(@"^(?:\./spinexr(?:\s|$)|spinexr\s+[a-z-])")]
    private static partial Regex InlineCommand();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^--([A-Za-z0-9][A-Za-z0-9-]*)")]
    private static partial Regex OptionName();

    // a key=value override as CliArgs reads one: a word with '=', no '/', starting with a letter
    [GeneratedRegex(@"^[A-Za-z][^=/]*=[^/]*$")]
    private static partial Regex OverrideWord();

    [GeneratedRegex(@"(?<![\w-])--([A-Za-z0-9][A-Za-z0-9-]*)")]
    private static partial Regex HelpOption();
}
