// Training curves in the format users already read: TensorBoard event files beside log.csv, written with TorchSharp's
// SummaryWriter (TFRecord-framed Event protobufs, masked CRC32C), so `tensorboard --logdir RUN_DIR/tensorboard` shows
// loss, learning rate and validation metrics of classifier and detector runs alike.
using TorchSharp;

namespace SpineXR.Vision.Training;

/// <summary>Writes a run's scalars (losses, learning rate, validation metrics) as TensorBoard events in <c>RUN_DIR/tensorboard</c>.</summary>
public sealed class ScalarLog
{
    /// <summary>The folder under a run directory that holds the event files.</summary>
    public const string FolderName = "tensorboard";

    private readonly TorchSharp.Modules.SummaryWriter _writer;

    /// <param name="runDirectory">The run directory; each process that trains (a first run, a resume) adds one event file.</param>
    public ScalarLog(string runDirectory)
    {
        Directory = Path.Combine(runDirectory, FolderName);
        _writer = torch.utils.tensorboard.SummaryWriter(Directory);
    }

    /// <summary>Where the event files are.</summary>
    public string Directory { get; }

    /// <summary>Adds the finite values of <paramref name="scalars"/> (tag -> value) at <paramref name="step"/>.</summary>
    public void Write(int step, IEnumerable<KeyValuePair<string, double>> scalars)
    {
        foreach (var (tag, value) in scalars)
            if (double.IsFinite(value)) _writer.add_scalar(tag, (float)value, step);
    }
}
