using System.Text.Json;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Tests.Catalog;

public sealed class CatalogSnapshotTests
{
    private const string DigestOne = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";
    private const string DigestTwo = "4f659a1e86d7f5a33c389f7991e7224b7ee6ad0358b53437d54c02d2e1b1118d";

    private static DateTimeOffset Now => new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static BackendOptions Options(string name, string? prefix = null, params string[] allow) =>
        new() { Name = name, Url = new Uri($"http://{name}:11434"), Prefix = prefix, Models = allow };

    private static JsonElement Entry(string name, string digest = DigestOne, long size = 2019393189) =>
        JsonDocument.Parse($$$"""
            {"name":"{{{name}}}","model":"{{{name}}}","modified_at":"2024-10-01T10:00:00Z","size":{{{size}}},"digest":"{{{digest}}}",
             "details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"}}
            """).RootElement.Clone();

    private static BackendListing Listing(Backend backend, params JsonElement[] models) =>
        new(backend, models, Ok: true, Error: null, LastSuccess: Now, CheckedAt: Now);

    private static JsonElement[] TagsModels(CatalogSnapshot snapshot)
    {
        using var document = JsonDocument.Parse(snapshot.TagsJson);
        return document.RootElement.GetProperty("models").EnumerateArray().Select(m => m.Clone()).ToArray();
    }

    [Fact]
    public void Build_ModelOnTwoBackends_IsListedOnceWithBothLocations()
    {
        var a = new Backend(Options("a"));
        var b = new Backend(Options("b"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(a, Entry("llama3.2:latest"), Entry("qwen2.5:7b")), Listing(b, Entry("llama3.2:latest"))],
            Now);

        snapshot.Models.Select(m => m.Name).Should().Equal("llama3.2:latest", "qwen2.5:7b");
        var llama = snapshot.Find(ModelCatalog.KeyFor(null, "llama3.2"));
        llama.Should().NotBeNull();
        llama!.Locations.Select(l => l.Backend).Should().Equal(a, b);
        snapshot.Find(ModelCatalog.KeyFor(null, "qwen2.5:7b"))!.Locations.Select(l => l.Backend).Should().Equal(a);
        TagsModels(snapshot).Select(m => m.GetProperty("name").GetString()).Should().Equal("llama3.2:latest", "qwen2.5:7b");
        snapshot.Conflicts.Should().BeEmpty();
        snapshot.CreatedAt.Should().Be(Now);
    }

    [Fact]
    public void Build_SameModelSpelledDifferently_IsMergedUnderFirstBackendsName()
    {
        var a = new Backend(Options("a"));
        var b = new Backend(Options("b"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(a, Entry("llama3.2:latest")), Listing(b, Entry("Library/Llama3.2"))],
            Now);

        var model = snapshot.Models.Should().ContainSingle().Subject;
        model.Name.Should().Be("llama3.2:latest");
        model.Locations.Select(l => l.UpstreamName).Should().Equal("llama3.2:latest", "Library/Llama3.2");
    }

    [Fact]
    public void Build_TagsJson_KeepsBackendEntryFields()
    {
        var a = new Backend(Options("a"));

        var snapshot = CatalogSnapshot.Build([Listing(a, Entry("llama3.2:latest", size: 123))], Now);

        var entry = TagsModels(snapshot).Should().ContainSingle().Subject;
        entry.GetProperty("digest").GetString().Should().Be(DigestOne);
        entry.GetProperty("size").GetInt64().Should().Be(123);
        entry.GetProperty("details").GetProperty("quantization_level").GetString().Should().Be("Q4_K_M");
    }

    [Fact]
    public void Build_NoModels_TagsJsonIsEmptyList()
    {
        var snapshot = CatalogSnapshot.Build([Listing(new Backend(Options("a")))], Now);

        System.Text.Encoding.UTF8.GetString(snapshot.TagsJson).Should().Be("{\"models\":[]}");
        snapshot.Models.Should().BeEmpty();
    }

    [Fact]
    public void Build_SameNameDifferentDigests_ReportsDigestConflict()
    {
        var a = new Backend(Options("a"));
        var b = new Backend(Options("b"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(a, Entry("llama3.2:latest", DigestOne)), Listing(b, Entry("llama3.2:latest", DigestTwo))],
            Now);

        var conflict = snapshot.Conflicts.Should().ContainSingle().Subject;
        conflict.Model.Should().Be("llama3.2:latest");
        conflict.Holders.Should().Equal(("a", DigestOne), ("b", DigestTwo));
        snapshot.Models.Should().ContainSingle();
    }

    [Fact]
    public void Build_SameNameSameDigest_HasNoConflict()
    {
        var a = new Backend(Options("a"));
        var b = new Backend(Options("b"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(a, Entry("llama3.2:latest", DigestOne)), Listing(b, Entry("llama3.2:latest", DigestOne.ToUpperInvariant()))],
            Now);

        snapshot.Conflicts.Should().BeEmpty();
    }

    [Fact]
    public void Build_PrefixedBackend_ShowsPrefixInNameAndModel()
    {
        var gpu = new Backend(Options("gpu", prefix: "gpu1"));

        var snapshot = CatalogSnapshot.Build([Listing(gpu, Entry("llama3.2:latest"))], Now);

        var entry = TagsModels(snapshot).Should().ContainSingle().Subject;
        entry.GetProperty("name").GetString().Should().Be("gpu1.llama3.2:latest");
        entry.GetProperty("model").GetString().Should().Be("gpu1.llama3.2:latest");
        entry.GetProperty("digest").GetString().Should().Be(DigestOne);
        snapshot.Models.Single().Name.Should().Be("gpu1.llama3.2:latest");
        snapshot.Models.Single().Locations.Single().UpstreamName.Should().Be("llama3.2:latest");
    }

    [Fact]
    public void Build_SameModelOnPrefixedAndPlainBackends_IsListedUnderEachName()
    {
        var plain = new Backend(Options("plain"));
        var gpu = new Backend(Options("gpu", prefix: "gpu1"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(plain, Entry("llama3.2:latest")), Listing(gpu, Entry("llama3.2:latest"))],
            Now);

        TagsModels(snapshot).Select(m => m.GetProperty("name").GetString()).Should().Equal("llama3.2:latest", "gpu1.llama3.2:latest");
        snapshot.Find(ModelCatalog.KeyFor(null, "llama3.2"))!.Locations.Single().Backend.Should().BeSameAs(plain);
        snapshot.Find(ModelCatalog.KeyFor("gpu1", "llama3.2"))!.Locations.Single().Backend.Should().BeSameAs(gpu);
    }

    [Fact]
    public void Build_AllowList_HidesOtherModels()
    {
        var a = new Backend(Options("a", prefix: null, "llama3.2", "hf.co/org/m:Q4"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(a, Entry("llama3.2:latest"), Entry("qwen2.5:7b"), Entry("hf.co/org/m:Q4"), Entry("llama3.2:1b"))],
            Now);

        snapshot.Models.Select(m => m.Name).Should().Equal("llama3.2:latest", "hf.co/org/m:Q4");
        TagsModels(snapshot).Select(m => m.GetProperty("name").GetString()).Should().Equal("llama3.2:latest", "hf.co/org/m:Q4");
        snapshot.Find(ModelCatalog.KeyFor(null, "qwen2.5:7b")).Should().BeNull();
    }

    [Fact]
    public void Build_AllowListOnOneBackend_DoesNotHideOtherBackendsModels()
    {
        var a = new Backend(Options("a", prefix: null, "llama3.2"));
        var b = new Backend(Options("b"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(a, Entry("llama3.2:latest"), Entry("qwen2.5:7b")), Listing(b, Entry("qwen2.5:7b"))],
            Now);

        snapshot.Find(ModelCatalog.KeyFor(null, "qwen2.5:7b"))!.Locations.Select(l => l.Backend).Should().Equal(b);
    }

    [Fact]
    public void Build_EntryWithoutName_UsesModelFieldOrIsSkipped()
    {
        var a = new Backend(Options("a"));
        var onlyModel = JsonDocument.Parse("""{"model":"phi3:mini","digest":"x"}""").RootElement.Clone();
        var nameless = JsonDocument.Parse("""{"size":1}""").RootElement.Clone();

        var snapshot = CatalogSnapshot.Build([Listing(a, onlyModel, nameless)], Now);

        snapshot.Models.Should().ContainSingle().Which.Name.Should().Be("phi3:mini");
    }

    [Theory]
    [InlineData("llama3.2")]
    [InlineData("LLAMA3.2:latest")]
    [InlineData("library/llama3.2")]
    [InlineData("registry.ollama.ai/library/llama3.2:latest")]
    public void Find_AnySpellingOfTheName_FindsTheModel(string requested)
    {
        var a = new Backend(Options("a"));
        var snapshot = CatalogSnapshot.Build([Listing(a, Entry("llama3.2:latest"))], Now);

        snapshot.Find(ModelCatalog.KeyFor(null, requested)).Should().NotBeNull();
    }

    [Fact]
    public void KeyFor_Prefix_IsCaseInsensitive()
    {
        ModelCatalog.KeyFor("GPU1", "Llama3.2").Should().Be(ModelCatalog.KeyFor("gpu1", "llama3.2:latest"));
        ModelCatalog.KeyFor("gpu1", "llama3.2").Should().NotBe(ModelCatalog.KeyFor(null, "llama3.2"));
    }

    [Theory]
    [InlineData("gpu1.llama3.2", "gpu1", "llama3.2")]
    [InlineData("GPU1.Llama3.2:latest", "gpu1", "llama3.2")]
    [InlineData("gpu1-big.qwen2.5:7b", "gpu1-big", "qwen2.5:7b")]
    [InlineData("llama3.2", null, "llama3.2")]
    [InlineData("gpu2.llama3.2", null, "gpu2.llama3.2")]
    public void KeyOf_RequestedName_MatchesKeyForOfItsBackend(string requested, string? prefix, string upstream)
    {
        var settings = new CorralSettings();
        using var client = new BackendClient(settings);
        var fleet = new BackendFleet([Options("plain"), Options("gpu", prefix: "gpu1"), Options("big", prefix: "gpu1-big")]);
        var catalog = new ModelCatalog(fleet, new ListingClient(client, settings), settings, TimeProvider.System, NullLogger<ModelCatalog>.Instance, new Presets());

        catalog.KeyOf(requested).Should().Be(ModelCatalog.KeyFor(prefix, upstream));
    }

    [Fact]
    public void KeyOf_PrefixedRequest_FindsModelInSnapshot()
    {
        var settings = new CorralSettings();
        using var client = new BackendClient(settings);
        BackendOptions[] options = [Options("plain"), Options("gpu", prefix: "gpu1")];
        var fleet = new BackendFleet(options);
        var catalog = new ModelCatalog(fleet, new ListingClient(client, settings), settings, TimeProvider.System, NullLogger<ModelCatalog>.Instance, new Presets());
        var snapshot = CatalogSnapshot.Build(
            [Listing(fleet.All[0], Entry("llama3.2:latest", DigestOne)), Listing(fleet.All[1], Entry("llama3.2:latest", DigestTwo))],
            Now);

        snapshot.Find(catalog.KeyOf("gpu1.llama3.2"))!.Locations.Single().Backend.Name.Should().Be("gpu");
        snapshot.Find(catalog.KeyOf("llama3.2"))!.Locations.Single().Backend.Name.Should().Be("plain");
        snapshot.Find(catalog.KeyOf("gpu1.qwen2.5")).Should().BeNull();
    }

    [Fact]
    public void Build_OneHolderFailedItsListing_RoutesOnlyAmongTheHealthyHolders()
    {
        var up = new Backend(Options("up"));
        var down = new Backend(Options("down"));
        var failed = Listing(down, Entry("llama3.2:latest")) with { Ok = false, Error = "connection refused" };

        var snapshot = CatalogSnapshot.Build([Listing(up, Entry("llama3.2:latest")), failed], Now);

        var model = snapshot.Find(ModelName.Key("llama3.2"))!;
        model.Holders.Should().Equal(up, down);
        model.Candidates.Should().Equal(up);
        model.LocationOn(down).Backend.Should().Be(down);
    }

    [Fact]
    public void Build_EveryHolderFailedItsListing_RoutesAmongAllOfThem()
    {
        var a = new Backend(Options("a"));
        var b = new Backend(Options("b"));

        var snapshot = CatalogSnapshot.Build(
            [Listing(a, Entry("llama3.2:latest")) with { Ok = false }, Listing(b, Entry("llama3.2:latest")) with { Ok = false }],
            Now);

        snapshot.Find(ModelName.Key("llama3.2"))!.Candidates.Should().Equal(a, b);
    }
}
