using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using SpineXR.Dicom;
using SpineXR.Dicom.Web;

namespace SpineXR.Web.Tests.DicomWeb;

/// <summary>A minimal STOW-RS receiver on loopback (POST /dicom-web/studies): keeps every instance it is sent.</summary>
public sealed class FakeDicomWebStore : IAsyncDisposable
{
    private readonly WebApplication _app;
    public List<DicomDataset> Received { get; } = [];
    public Uri BaseUrl { get; private set; } = null!;

    private FakeDicomWebStore(WebApplication app) => _app = app;

    public static async Task<FakeDicomWebStore> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var store = new FakeDicomWebStore(app);
        app.MapPost("/dicom-web/studies", async ctx =>
        {
            using var ms = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(ms);
            var mt = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(ctx.Request.ContentType);
            var answer = new DicomDataset();
            var stored = new List<DicomDataset>();
            foreach (var (_, body) in MultipartRelated.Split(ms.ToArray(), Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(mt.Boundary).Value!))
            {
                var ds = DicomFile.Read(body.ToArray()).Dataset;
                lock (store.Received) store.Received.Add(ds);
                stored.Add(new DicomDataset().SetString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, ds.GetString(DicomTags.SOPInstanceUID)!));
            }
            answer.SetSequence(DicomTags.ReferencedSOPSequence, stored.ToArray());
            ctx.Response.ContentType = DicomJson.MediaType;
            await ctx.Response.WriteAsync(DicomJson.Serialize(answer));
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        store.BaseUrl = new Uri(address + "/dicom-web");
        return store;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
