namespace SpineXR.Synthesis;

/// <summary>Placeholder until the DICOM writer lands.</summary>
public static class SynthDicom
{
    public static void Write(string path, SynthImage im, SynthPixels px) => throw new NotSupportedException("DICOM writer not merged yet");
}
