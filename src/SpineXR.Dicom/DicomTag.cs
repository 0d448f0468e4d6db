namespace SpineXR.Dicom;

/// <summary>A data element tag (group, element).</summary>
public readonly record struct DicomTag(ushort Group, ushort Element) : IComparable<DicomTag>
{
    /// <summary>The tag as one 32-bit number, group in the high half (the sort order of a dataset).</summary>
    public uint Value => (uint)Group << 16 | Element;

    public static DicomTag FromValue(uint value) => new((ushort)(value >> 16), (ushort)value);

    /// <summary>Odd groups are private.</summary>
    public bool IsPrivate => (Group & 1) == 1;

    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    public override string ToString() => $"({Group:X4},{Element:X4})";
}

/// <summary>Tags the reader, writer, renderer and commands use by name.</summary>
public static class DicomTags
{
    public static readonly DicomTag FileMetaInformationGroupLength = new(0x0002, 0x0000);
    public static readonly DicomTag FileMetaInformationVersion = new(0x0002, 0x0001);
    public static readonly DicomTag MediaStorageSOPClassUID = new(0x0002, 0x0002);
    public static readonly DicomTag MediaStorageSOPInstanceUID = new(0x0002, 0x0003);
    public static readonly DicomTag TransferSyntaxUID = new(0x0002, 0x0010);
    public static readonly DicomTag ImplementationClassUID = new(0x0002, 0x0012);
    public static readonly DicomTag ImplementationVersionName = new(0x0002, 0x0013);

    public static readonly DicomTag SpecificCharacterSet = new(0x0008, 0x0005);
    public static readonly DicomTag ImageType = new(0x0008, 0x0008);
    public static readonly DicomTag SOPClassUID = new(0x0008, 0x0016);
    public static readonly DicomTag SOPInstanceUID = new(0x0008, 0x0018);
    public static readonly DicomTag StudyDate = new(0x0008, 0x0020);
    public static readonly DicomTag ContentDate = new(0x0008, 0x0023);
    public static readonly DicomTag StudyTime = new(0x0008, 0x0030);
    public static readonly DicomTag ContentTime = new(0x0008, 0x0033);
    public static readonly DicomTag AccessionNumber = new(0x0008, 0x0050);
    public static readonly DicomTag Modality = new(0x0008, 0x0060);
    public static readonly DicomTag ConversionType = new(0x0008, 0x0064);
    public static readonly DicomTag Manufacturer = new(0x0008, 0x0070);
    public static readonly DicomTag ReferringPhysicianName = new(0x0008, 0x0090);
    public static readonly DicomTag StudyDescription = new(0x0008, 0x1030);
    public static readonly DicomTag SeriesDescription = new(0x0008, 0x103E);
    public static readonly DicomTag ReferencedSOPClassUID = new(0x0008, 0x1150);
    public static readonly DicomTag ReferencedSOPInstanceUID = new(0x0008, 0x1155);
    public static readonly DicomTag DerivationDescription = new(0x0008, 0x2111);
    public static readonly DicomTag SourceImageSequence = new(0x0008, 0x2112);
    public static readonly DicomTag PatientName = new(0x0010, 0x0010);
    public static readonly DicomTag PatientID = new(0x0010, 0x0020);
    public static readonly DicomTag PatientBirthDate = new(0x0010, 0x0030);
    public static readonly DicomTag PatientSex = new(0x0010, 0x0040);
    public static readonly DicomTag PatientAge = new(0x0010, 0x1010);
    public static readonly DicomTag BodyPartExamined = new(0x0018, 0x0015);
    public static readonly DicomTag ImagerPixelSpacing = new(0x0018, 0x1164);
    public static readonly DicomTag StudyInstanceUID = new(0x0020, 0x000D);
    public static readonly DicomTag SeriesInstanceUID = new(0x0020, 0x000E);
    public static readonly DicomTag StudyID = new(0x0020, 0x0010);
    public static readonly DicomTag SeriesNumber = new(0x0020, 0x0011);
    public static readonly DicomTag InstanceNumber = new(0x0020, 0x0013);
    public static readonly DicomTag PatientOrientation = new(0x0020, 0x0020);
    public static readonly DicomTag Laterality = new(0x0020, 0x0060);
    public static readonly DicomTag ImageComments = new(0x0020, 0x4000);

    public static readonly DicomTag SamplesPerPixel = new(0x0028, 0x0002);
    public static readonly DicomTag PhotometricInterpretation = new(0x0028, 0x0004);
    public static readonly DicomTag PlanarConfiguration = new(0x0028, 0x0006);
    public static readonly DicomTag NumberOfFrames = new(0x0028, 0x0008);
    public static readonly DicomTag Rows = new(0x0028, 0x0010);
    public static readonly DicomTag Columns = new(0x0028, 0x0011);
    public static readonly DicomTag PixelSpacing = new(0x0028, 0x0030);
    public static readonly DicomTag BitsAllocated = new(0x0028, 0x0100);
    public static readonly DicomTag BitsStored = new(0x0028, 0x0101);
    public static readonly DicomTag HighBit = new(0x0028, 0x0102);
    public static readonly DicomTag PixelRepresentation = new(0x0028, 0x0103);
    public static readonly DicomTag PixelPaddingValue = new(0x0028, 0x0120);
    public static readonly DicomTag PixelPaddingRangeLimit = new(0x0028, 0x0121);
    public static readonly DicomTag WindowCenter = new(0x0028, 0x1050);
    public static readonly DicomTag WindowWidth = new(0x0028, 0x1051);
    public static readonly DicomTag RescaleIntercept = new(0x0028, 0x1052);
    public static readonly DicomTag RescaleSlope = new(0x0028, 0x1053);
    public static readonly DicomTag RescaleType = new(0x0028, 0x1054);
    public static readonly DicomTag VOILUTFunction = new(0x0028, 0x1056);
    public static readonly DicomTag BurnedInAnnotation = new(0x0028, 0x0301);
    public static readonly DicomTag LossyImageCompression = new(0x0028, 0x2110);
    public static readonly DicomTag ModalityLUTSequence = new(0x0028, 0x3000);
    public static readonly DicomTag LUTDescriptor = new(0x0028, 0x3002);
    public static readonly DicomTag ModalityLUTType = new(0x0028, 0x3004);
    public static readonly DicomTag LUTData = new(0x0028, 0x3006);
    public static readonly DicomTag VOILUTSequence = new(0x0028, 0x3010);

    // Structured reports, presentation states and DICOMweb responses (PS3.3 C.17, C.10.5, C.11; PS3.18 10.5).
    public static readonly DicomTag InstanceCreationDate = new(0x0008, 0x0012);
    public static readonly DicomTag InstanceCreationTime = new(0x0008, 0x0013);
    public static readonly DicomTag SeriesDate = new(0x0008, 0x0021);
    public static readonly DicomTag SeriesTime = new(0x0008, 0x0031);
    public static readonly DicomTag CodeValue = new(0x0008, 0x0100);
    public static readonly DicomTag CodingSchemeDesignator = new(0x0008, 0x0102);
    public static readonly DicomTag CodingSchemeVersion = new(0x0008, 0x0103);
    public static readonly DicomTag CodeMeaning = new(0x0008, 0x0104);
    public static readonly DicomTag MappingResource = new(0x0008, 0x0105);
    public static readonly DicomTag CodingSchemeIdentificationSequence = new(0x0008, 0x0110);
    public static readonly DicomTag CodingSchemeName = new(0x0008, 0x0115);
    public static readonly DicomTag CodingSchemeResponsibleOrganization = new(0x0008, 0x0116);
    public static readonly DicomTag InstitutionName = new(0x0008, 0x0080);
    public static readonly DicomTag ManufacturerModelName = new(0x0008, 0x1090);
    public static readonly DicomTag ReferencedPerformedProcedureStepSequence = new(0x0008, 0x1111);
    public static readonly DicomTag ReferencedSeriesSequence = new(0x0008, 0x1115);
    public static readonly DicomTag ReferencedImageSequence = new(0x0008, 0x1140);
    public static readonly DicomTag RetrieveURL = new(0x0008, 0x1190);
    public static readonly DicomTag FailureReason = new(0x0008, 0x1197);
    public static readonly DicomTag FailedSOPSequence = new(0x0008, 0x1198);
    public static readonly DicomTag ReferencedSOPSequence = new(0x0008, 0x1199);
    public static readonly DicomTag SoftwareVersions = new(0x0018, 0x1020);
    public static readonly DicomTag ContributingEquipmentSequence = new(0x0018, 0xA001);
    public static readonly DicomTag ContributionDateTime = new(0x0018, 0xA002);
    public static readonly DicomTag ContributionDescription = new(0x0018, 0xA003);
    public static readonly DicomTag SoftcopyVOILUTSequence = new(0x0028, 0x3110);
    public static readonly DicomTag MeasurementUnitsCodeSequence = new(0x0040, 0x08EA);
    public static readonly DicomTag RelationshipType = new(0x0040, 0xA010);
    public static readonly DicomTag ValueType = new(0x0040, 0xA040);
    public static readonly DicomTag ConceptNameCodeSequence = new(0x0040, 0xA043);
    public static readonly DicomTag ContinuityOfContent = new(0x0040, 0xA050);
    public static readonly DicomTag UID = new(0x0040, 0xA124);
    public static readonly DicomTag TextValue = new(0x0040, 0xA160);
    public static readonly DicomTag FloatingPointValue = new(0x0040, 0xA161);
    public static readonly DicomTag ConceptCodeSequence = new(0x0040, 0xA168);
    public static readonly DicomTag PurposeOfReferenceCodeSequence = new(0x0040, 0xA170);
    public static readonly DicomTag MeasuredValueSequence = new(0x0040, 0xA300);
    public static readonly DicomTag NumericValue = new(0x0040, 0xA30A);
    public static readonly DicomTag PerformedProcedureCodeSequence = new(0x0040, 0xA372);
    public static readonly DicomTag CurrentRequestedProcedureEvidenceSequence = new(0x0040, 0xA375);
    public static readonly DicomTag CompletionFlag = new(0x0040, 0xA491);
    public static readonly DicomTag VerificationFlag = new(0x0040, 0xA493);
    public static readonly DicomTag ContentTemplateSequence = new(0x0040, 0xA504);
    public static readonly DicomTag ContentSequence = new(0x0040, 0xA730);
    public static readonly DicomTag TemplateIdentifier = new(0x0040, 0xDB00);
    public static readonly DicomTag GraphicAnnotationSequence = new(0x0070, 0x0001);
    public static readonly DicomTag GraphicLayer = new(0x0070, 0x0002);
    public static readonly DicomTag BoundingBoxAnnotationUnits = new(0x0070, 0x0003);
    public static readonly DicomTag AnchorPointAnnotationUnits = new(0x0070, 0x0004);
    public static readonly DicomTag GraphicAnnotationUnits = new(0x0070, 0x0005);
    public static readonly DicomTag UnformattedTextValue = new(0x0070, 0x0006);
    public static readonly DicomTag TextObjectSequence = new(0x0070, 0x0008);
    public static readonly DicomTag GraphicObjectSequence = new(0x0070, 0x0009);
    public static readonly DicomTag BoundingBoxTopLeftHandCorner = new(0x0070, 0x0010);
    public static readonly DicomTag BoundingBoxBottomRightHandCorner = new(0x0070, 0x0011);
    public static readonly DicomTag BoundingBoxTextHorizontalJustification = new(0x0070, 0x0012);
    public static readonly DicomTag AnchorPoint = new(0x0070, 0x0014);
    public static readonly DicomTag AnchorPointVisibility = new(0x0070, 0x0015);
    public static readonly DicomTag GraphicDimensions = new(0x0070, 0x0020);
    public static readonly DicomTag NumberOfGraphicPoints = new(0x0070, 0x0021);
    public static readonly DicomTag GraphicData = new(0x0070, 0x0022);
    public static readonly DicomTag GraphicType = new(0x0070, 0x0023);
    public static readonly DicomTag GraphicFilled = new(0x0070, 0x0024);
    public static readonly DicomTag DisplayedAreaTopLeftHandCorner = new(0x0070, 0x0052);
    public static readonly DicomTag DisplayedAreaBottomRightHandCorner = new(0x0070, 0x0053);
    public static readonly DicomTag DisplayedAreaSelectionSequence = new(0x0070, 0x005A);
    public static readonly DicomTag GraphicLayerSequence = new(0x0070, 0x0060);
    public static readonly DicomTag GraphicLayerOrder = new(0x0070, 0x0062);
    public static readonly DicomTag GraphicLayerRecommendedDisplayGrayscaleValue = new(0x0070, 0x0066);
    public static readonly DicomTag GraphicLayerDescription = new(0x0070, 0x0068);
    public static readonly DicomTag ContentLabel = new(0x0070, 0x0080);
    public static readonly DicomTag ContentDescription = new(0x0070, 0x0081);
    public static readonly DicomTag PresentationCreationDate = new(0x0070, 0x0082);
    public static readonly DicomTag PresentationCreationTime = new(0x0070, 0x0083);
    public static readonly DicomTag ContentCreatorName = new(0x0070, 0x0084);
    public static readonly DicomTag PresentationSizeMode = new(0x0070, 0x0100);
    public static readonly DicomTag PresentationPixelSpacing = new(0x0070, 0x0101);
    public static readonly DicomTag PresentationPixelAspectRatio = new(0x0070, 0x0102);
    public static readonly DicomTag GraphicLayerRecommendedDisplayCIELabValue = new(0x0070, 0x0401);
    public static readonly DicomTag PresentationLUTShape = new(0x2050, 0x0020);

    public static readonly DicomTag ExtendedOffsetTable = new(0x7FE0, 0x0001);
    public static readonly DicomTag ExtendedOffsetTableLengths = new(0x7FE0, 0x0002);
    public static readonly DicomTag FloatPixelData = new(0x7FE0, 0x0008);
    public static readonly DicomTag DoubleFloatPixelData = new(0x7FE0, 0x0009);
    public static readonly DicomTag PixelData = new(0x7FE0, 0x0010);

    public static readonly DicomTag Item = new(0xFFFE, 0xE000);
    public static readonly DicomTag ItemDelimitationItem = new(0xFFFE, 0xE00D);
    public static readonly DicomTag SequenceDelimitationItem = new(0xFFFE, 0xE0DD);
}
