namespace SpineXR.Dicom;

/// <summary>Any failure to read, decode or write DICOM: the message names the reason (and the file where known).</summary>
public class DicomException : Exception
{
    public DicomException(string message) : base(message) { }
    public DicomException(string message, Exception inner) : base(message, inner) { }
}
