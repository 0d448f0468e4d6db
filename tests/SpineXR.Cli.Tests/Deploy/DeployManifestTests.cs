using System.Text.RegularExpressions;
using SpineXR.Cli.Commands;
using SpineXR.Inference;

namespace SpineXR.Cli.Tests.Deploy;

/// <summary>
/// deploy/ cannot run here (no cluster, no container runtime): its manifests are parsed and held to the CLI they
/// call: the right kinds and keys, every option on their command lines one the command has, ports and paths agreeing.
/// </summary>
public sealed class DeployManifestTests
{
    /// <summary>The checkout: the first folder above the test binaries that holds SpineXR.sln.</summary>
    private static string Repo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "SpineXR.sln"))) return d.FullName;
        throw new InvalidOperationException($"no SpineXR.sln above {AppContext.BaseDirectory}");
    }

    private static string Deploy(string name) => Path.Combine(Repo(), "deploy", name);

    private static Dictionary<string, object> Container(object doc) =>
        Assert.IsType<Dictionary<string, object>>(Assert.Single(SimpleYaml.List(doc, "spec.template.spec.containers")));

    private static List<string> Args(Dictionary<string, object> container) => SimpleYaml.List(container, "args").Cast<string>().ToList();

    /// <summary>Every --option on the command line is named in the command's help (so it exists).</summary>
    private static void OptionsExist(IEnumerable<string> args, ICliCommand command)
    {
        foreach (var option in args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
            Assert.True(Regex.IsMatch(command.Help, Regex.Escape(option) + @"\b"), $"{command.Name} has no option {option}");
    }

    /// <summary>The program the manifests start is the one the Dockerfile installs.</summary>
    private static void RunsTheImagesProgram(Dictionary<string, object> container)
    {
        string entry = Regex.Match(File.ReadAllText(Deploy("Dockerfile")), @"^ENTRYPOINT\s+(\[.*\])\s*$", RegexOptions.Multiline).Groups[1].Value;
        Assert.Equal(System.Text.Json.JsonSerializer.Deserialize<List<string>>(entry), SimpleYaml.List(container, "command").Cast<string>().ToList());
    }

    [Fact]
    public void The_batch_job_is_an_indexed_job_whose_shards_are_the_predict_command_s()
    {
        var job = Assert.Single(SimpleYaml.LoadAll(Deploy("predict-job.yaml")));
        Assert.Equal(("batch/v1", "Job"), (SimpleYaml.Str(job, "apiVersion"), SimpleYaml.Str(job, "kind")));
        Assert.Equal("Indexed", SimpleYaml.Str(job, "spec.completionMode"));
        Assert.Equal("Never", SimpleYaml.Str(job, "spec.template.spec.restartPolicy"));
        var container = Container(job);
        RunsTheImagesProgram(container);
        var args = Args(container);
        Assert.Equal("predict", args[0]);
        Assert.Equal("auto", args[args.IndexOf("--shard") + 1]);
        Assert.Contains("$(JOB_COMPLETION_INDEX)", args[args.IndexOf("--out") + 1]); // one output folder per shard
        OptionsExist(args, new PredictCommand());
        // the shard count the workers are told is the number of workers
        var env = SimpleYaml.List(container, "env").Cast<Dictionary<string, object>>().ToList();
        var count = Assert.Single(env, e => (string)e["name"] == InputFiles.ShardCountVariable);
        Assert.Equal(SimpleYaml.Str(job, "spec.completions"), (string)count["value"]);
        // every volume mounted exists
        var volumes = SimpleYaml.List(job, "spec.template.spec.volumes").Cast<Dictionary<string, object>>().Select(v => (string)v["name"]).ToHashSet();
        Assert.All(SimpleYaml.List(container, "volumeMounts").Cast<Dictionary<string, object>>(), m => Assert.Contains((string)m["name"], volumes));
    }

    [Fact]
    public void The_service_deployment_runs_serve_on_the_port_its_service_and_probes_use()
    {
        var docs = SimpleYaml.LoadAll(Deploy("serve.yaml"));
        var deployment = Assert.Single(docs, d => SimpleYaml.Str(d, "kind") == "Deployment");
        var service = Assert.Single(docs, d => SimpleYaml.Str(d, "kind") == "Service");
        Assert.Equal("apps/v1", SimpleYaml.Str(deployment, "apiVersion"));
        Assert.Equal("v1", SimpleYaml.Str(service, "apiVersion"));
        var container = Container(deployment);
        RunsTheImagesProgram(container);
        var args = Args(container);
        Assert.Equal("serve", args[0]);
        OptionsExist(args, new ServeCommand());

        string port = new Uri(args[args.IndexOf("--urls") + 1]).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var containerPort = Assert.IsType<Dictionary<string, object>>(Assert.Single(SimpleYaml.List(container, "ports")));
        Assert.Equal(port, (string)containerPort["containerPort"]);
        var servicePort = Assert.IsType<Dictionary<string, object>>(Assert.Single(SimpleYaml.List(service, "spec.ports")));
        Assert.Equal(port, (string)servicePort["targetPort"]);
        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            Assert.Equal(port, SimpleYaml.Str(container, probe + ".httpGet.port"));
            Assert.Contains("GET  " + SimpleYaml.Str(container, probe + ".httpGet.path"), new ServeCommand().Help);
        }
        // the service selects the pods the deployment makes
        Assert.Equal(SimpleYaml.Str(service, "spec.selector.app"), SimpleYaml.Str(deployment, "spec.template.metadata.labels.app"));
        Assert.Equal(SimpleYaml.Str(deployment, "spec.selector.matchLabels.app"), SimpleYaml.Str(deployment, "spec.template.metadata.labels.app"));
        // the API key from a secret, not on the command line
        Assert.DoesNotContain("--api-key", args);
        Assert.Contains(SimpleYaml.List(container, "env").Cast<Dictionary<string, object>>(), e => (string)e["name"] == "SPINEXR_API_KEY");
    }

    [Fact]
    public void The_container_recipe_sets_up_as_scripts_setup_sh_does_and_builds_the_cli()
    {
        string dockerfile = File.ReadAllText(Deploy("Dockerfile"));
        Assert.Contains("bash scripts/setup.sh", dockerfile);
        Assert.Matches(@"FROM debian:12\s", dockerfile);
        var built = Regex.Match(dockerfile, @"dotnet build (\S+\.csproj)").Groups[1].Value;
        Assert.True(File.Exists(Path.Combine(Repo(), built)), $"the Dockerfile builds {built}, which does not exist");
        Assert.EndsWith("SpineXR.Cli.csproj", built);
    }

    [Fact]
    public void The_yaml_reader_refuses_what_it_does_not_understand()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "a:\n  b: |\n    text\n");
            Assert.Throws<FormatException>(() => SimpleYaml.LoadAll(path));
            File.WriteAllText(path, "a:\n  b: [\"x\",\n       \"y\"]\n  c:\n    - name: n\n      value: \"1\"\n");
            var doc = Assert.Single(SimpleYaml.LoadAll(path));
            Assert.Equal(["x", "y"], SimpleYaml.List(doc, "a.b").Cast<string>());
            Assert.Equal("1", ((Dictionary<string, object>)SimpleYaml.List(doc, "a.c")[0])["value"]);
        }
        finally { File.Delete(path); }
    }
}
