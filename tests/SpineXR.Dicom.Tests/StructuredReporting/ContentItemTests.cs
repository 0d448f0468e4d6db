using SpineXR.Dicom.StructuredReporting;

namespace SpineXR.Dicom.Tests.StructuredReporting;

public class ContentItemTests
{
    private static readonly CodedConcept Name = new("122157", "DCM", "Probability");
    private static readonly CodedConcept Units = new("1", "UCUM", "no units");

    [Fact]
    public void A_num_reads_back_exactly_from_its_floating_point_value_and_its_text_fits_ds()
    {
        var num = ContentItem.Num(ContentItem.Contains, Name, 0.123456789012345678, Units);
        Assert.Equal(0.123456789012345678, ContentItem.NumValue(num));
        var measured = Assert.Single(num.GetSequence(DicomTags.MeasuredValueSequence));
        Assert.True(measured.GetString(DicomTags.NumericValue)!.Length <= 16);
        measured.Remove(DicomTags.FloatingPointValue); // a writer that gives only the DS text
        Assert.Equal(0.123456789012345678, ContentItem.NumValue(num)!.Value, 12);
    }

    [Fact]
    public void A_scoord_keeps_its_points_and_the_image_it_is_selected_from()
    {
        var image = ContentItem.Image(ContentItem.SelectedFrom, null, "1.2.840.10008.5.1.4.1.1.1.1", "1.2.3");
        var scoord = ContentItem.Scoord(ContentItem.Contains, new CodedConcept("111030", "DCM", "Image Region"), "POLYLINE", [1.5f, 2.25f, 3, 4], image);
        Assert.Equal([1.5f, 2.25f, 3, 4], ContentItem.Points(scoord));
        Assert.Equal("IMAGE", ContentItem.ValueType(Assert.Single(ContentItem.Children(scoord))));
        Assert.Throws<ArgumentException>(() => ContentItem.Scoord(ContentItem.Contains, Name, "POINT", [1f, 2f, 3f], image));
    }

    [Fact]
    public void Codes_match_by_value_and_scheme_and_code_values_longer_than_sh_are_refused()
    {
        Assert.True(Name.Matches(new CodedConcept("122157", "DCM", "probability, in other words")));
        Assert.False(Name.Matches(new CodedConcept("122157", "SCT", "Probability")));
        Assert.False(Name.Matches(null));
        Assert.Throws<ArgumentException>(() => new CodedConcept("12345678901234567", "99X", "too long").ToItem());
        var container = ContentItem.Container(null, Name, [ContentItem.Code(ContentItem.Contains, Name, Units), ContentItem.Text(ContentItem.Contains, Units, "t")]);
        Assert.Single(ContentItem.ChildrenNamed(container, Name));
        Assert.Equal(Units, ContentItem.CodeValue(ContentItem.ChildrenNamed(container, Name).Single()));
    }
}
