using Corral.Access;
using Corral.Hosting;

namespace Corral.Tests.Access;

/// <summary>The per-connection key memory must never let a request through that the full check would refuse.</summary>
public sealed class ConnectionKeyMemoryTests
{
    private readonly InMemoryKeyStore _store = new();
    private readonly FakeTimeProvider _time = new();

    private KeyRing NewRing() => new(_store, new CorralSettings(), _time);

    [Fact]
    public async Task Authenticate_SameKeyOnTheSameConnection_IsTheSameCaller()
    {
        var ring = NewRing();
        var (key, secret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);
        var memory = new ConnectionKeyMemory();

        var first = ring.Authenticate(secret, memory);
        var second = ring.Authenticate(secret, memory);

        first!.KeyId.Should().Be(key.Id);
        second.Should().BeSameAs(first);
    }

    [Fact]
    public async Task Authenticate_AnotherKeyOfTheSameLengthOnTheConnection_IsCheckedInFull()
    {
        var ring = NewRing();
        var (_, secret) = await ring.CreateAsync("alice", KeyRole.Admin, null, CancellationToken.None);
        var memory = new ConnectionKeyMemory();
        ring.Authenticate(secret, memory).Should().NotBeNull();

        var forged = secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A');

        ring.Authenticate(forged, memory).Should().BeNull();
        ring.Authenticate(secret, memory)!.IsAdmin.Should().BeTrue();
    }

    [Fact]
    public async Task Authenticate_KeyRevokedWhileRemembered_IsRefusedOnTheNextRequest()
    {
        var ring = NewRing();
        var (key, secret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);
        var memory = new ConnectionKeyMemory();
        ring.Authenticate(secret, memory).Should().NotBeNull();

        (await ring.RevokeAsync(key.Id, CancellationToken.None)).Should().BeTrue();

        ring.Authenticate(secret, memory).Should().BeNull();
    }

    [Fact]
    public async Task Authenticate_KeyExpiresWhileRemembered_IsRefusedOnceItsTimeHasPassed()
    {
        var ring = NewRing();
        var (_, secret) = await ring.CreateAsync("alice", KeyRole.User, _time.GetUtcNow().AddMinutes(5), CancellationToken.None);
        var memory = new ConnectionKeyMemory();
        ring.Authenticate(secret, memory).Should().NotBeNull();

        _time.Advance(TimeSpan.FromMinutes(6));

        ring.Authenticate(secret, memory).Should().BeNull();
    }

    [Fact]
    public void Authenticate_UnknownKey_IsNotRemembered()
    {
        var ring = NewRing();
        var memory = new ConnectionKeyMemory();

        ring.Authenticate("corral_unknown", memory).Should().BeNull();

        memory.Matches("corral_unknown", version: 0).Should().BeNull();
        memory.Matches("corral_unknown", version: 1).Should().BeNull();
    }
}
