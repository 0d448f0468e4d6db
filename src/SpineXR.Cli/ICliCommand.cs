namespace SpineXR.Cli;

/// <summary>One `spinexr` sub-command. Implementations are discovered by reflection; add a class, nothing else.</summary>
public interface ICliCommand
{
    /// <summary>Words that select the command, e.g. "dicom info".</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>Full help text shown by `--help` (usage line, options, exit codes).</summary>
    string Help { get; }

    /// <summary>Options that take no value.</summary>
    ISet<string> Flags => new HashSet<string>();

    /// <summary>Runs the command: 0 all done, 1 finished with some failed inputs, 2 bad usage or nothing done.</summary>
    int Run(CliArgs args);
}

/// <summary>Exit codes of the command contract (docs/design.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int SomeFailed = 1;
    public const int Usage = 2;

    /// <summary>Stopped early because output could not be written (a full disk): rerun once there is room.</summary>
    public const int OutputFailed = 3;
}
