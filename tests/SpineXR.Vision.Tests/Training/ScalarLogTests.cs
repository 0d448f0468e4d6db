using SpineXR.Vision.Training;

namespace SpineXR.Vision.Tests.Training;

/// <summary>The event files TensorBoard reads: TFRecord frames (length, masked CRC32C of it, an Event protobuf, its masked CRC32C).</summary>
public class ScalarLogTests
{
    /// <summary>Reads every record of a TFRecord file, checking both CRCs as TensorBoard's reader does.</summary>
    internal static List<Tensorboard.Event> ReadEvents(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Tensorboard.Event>();
        for (int at = 0; at < bytes.Length;)
        {
            Assert.True(at + 12 <= bytes.Length, $"{path}: record header cut at {at}");
            ulong length = BitConverter.ToUInt64(bytes, at);
            Assert.Equal(MaskedCrc32C(bytes.AsSpan(at, 8)), BitConverter.ToUInt32(bytes, at + 8));
            at += 12;
            Assert.True(at + (int)length + 4 <= bytes.Length, $"{path}: record cut at {at}");
            var data = bytes.AsSpan(at, (int)length);
            Assert.Equal(MaskedCrc32C(data), BitConverter.ToUInt32(bytes, at + (int)length));
            events.Add(Tensorboard.Event.Parser.ParseFrom(data.ToArray()));
            at += (int)length + 4;
        }
        return events;
    }

    private static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    [Fact]
    public void Writes_finite_scalars_that_a_tfrecord_reader_gets_back()
    {
        var dir = Fixtures.TempDir("scalarlog");
        var log = new ScalarLog(dir);
        log.Write(5, [KeyValuePair.Create("train/loss", 0.75), KeyValuePair.Create("train/lr", 1e-3), KeyValuePair.Create("val/auroc", double.NaN)]);
        log.Write(10, [KeyValuePair.Create("train/loss", 0.5)]);

        var file = Assert.Single(Directory.GetFiles(Path.Combine(dir, ScalarLog.FolderName), "events.out.tfevents.*"));
        var events = ReadEvents(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        var scalars = events.Skip(1).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v.Tag, v.SimpleValue))).ToList();
        Assert.Equal([(5L, "train/loss", 0.75f), (5L, "train/lr", 1e-3f), (10L, "train/loss", 0.5f)], scalars); // NaN left out
    }
}
