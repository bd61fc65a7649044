using System.Text;
using Corral.Access;
using Corral.Hosting;

namespace Corral.Tests.Access;

public sealed class KeyRingTests
{
    private const string ConfiguredAdminKey = "configured-admin-key-0123456789";

    private readonly InMemoryKeyStore _store = new();
    private readonly FakeTimeProvider _time = new();

    private KeyRing NewRing(string? adminKey = null) => new(_store, new CorralSettings { AdminKey = adminKey }, _time);

    [Fact]
    public async Task CreateAsync_NewKey_Authenticates()
    {
        var ring = NewRing();

        var (key, secret) = await ring.CreateAsync("alice", KeyRole.User, expiresAt: null, CancellationToken.None);

        var caller = ring.Authenticate(secret);
        caller.Should().NotBeNull();
        caller!.KeyId.Should().Be(key.Id);
        caller.KeyName.Should().Be("alice");
        caller.Role.Should().Be(KeyRole.User);
        caller.IsAdmin.Should().BeFalse();
    }

    [Fact]
    public async Task CreateAsync_TwoKeys_EachAuthenticatesAsItself()
    {
        var ring = NewRing();

        var (alice, aliceSecret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);
        var (bob, bobSecret) = await ring.CreateAsync("bob", KeyRole.Admin, null, CancellationToken.None);

        aliceSecret.Should().NotBe(bobSecret);
        alice.Id.Should().NotBe(bob.Id);
        ring.Authenticate(aliceSecret)!.KeyId.Should().Be(alice.Id);
        ring.Authenticate(bobSecret)!.Role.Should().Be(KeyRole.Admin);
    }

    [Fact]
    public async Task CreateAsync_StoredRecord_HoldsNoSecret()
    {
        var ring = NewRing();

        var (_, secret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);

        var stored = _store.Keys.Should().ContainSingle().Subject;
        stored.Hash.Should().NotEqual(Encoding.UTF8.GetBytes(secret));
        Encoding.UTF8.GetString(stored.Hash).Should().NotContain(secret);
        stored.Hash.Should().HaveCount(32);
        stored.Name.Should().NotContain(secret);
        stored.Id.Should().NotContain(secret);
        stored.Hint.Should().NotContain(secret);
    }

    [Fact]
    public async Task CreateAsync_StoredHint_RevealsOnlyAShortPrefixOfTheSecret()
    {
        var ring = NewRing();

        var (key, secret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);

        var revealed = key.Hint.TrimEnd('…');
        revealed.Length.Should().BeLessThan(12);
        revealed.Should().NotBeEmpty();
        secret.Should().StartWith(revealed);
        _store.Keys.Single().Hint.Should().Be(key.Hint);
    }

    [Fact]
    public void Authenticate_UnknownToken_IsNull()
    {
        var ring = NewRing();

        ring.Authenticate("corral_not-a-real-key").Should().BeNull();
        ring.Authenticate("").Should().BeNull();
    }

    [Fact]
    public async Task Authenticate_SecretWithOneCharacterChanged_IsNull()
    {
        var ring = NewRing();
        var (_, secret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);

        var tampered = secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A');

        ring.Authenticate(tampered).Should().BeNull();
        ring.Authenticate(string.Equals(secret.ToUpperInvariant(), secret, StringComparison.Ordinal) ? secret.ToLowerInvariant() : secret.ToUpperInvariant()).Should().BeNull();
    }

    [Fact]
    public async Task RevokeAsync_Key_NoLongerAuthenticates()
    {
        var ring = NewRing();
        var (key, secret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);
        var (_, otherSecret) = await ring.CreateAsync("bob", KeyRole.User, null, CancellationToken.None);

        var revoked = await ring.RevokeAsync(key.Id, CancellationToken.None);

        revoked.Should().BeTrue();
        ring.Authenticate(secret).Should().BeNull();
        ring.Authenticate(otherSecret).Should().NotBeNull();
        _store.Keys.Single(k => k.Id == key.Id).RevokedAt.Should().Be(_time.GetUtcNow());
    }

    [Fact]
    public async Task RevokeAsync_UnknownOrAlreadyRevoked_IsFalse()
    {
        var ring = NewRing();
        var (key, _) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);
        await ring.RevokeAsync(key.Id, CancellationToken.None);

        (await ring.RevokeAsync(key.Id, CancellationToken.None)).Should().BeFalse();
        (await ring.RevokeAsync("key_nope", CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task LoadAsync_RevokedKeyInStore_DoesNotAuthenticateAfterRestart()
    {
        var (key, secret) = await NewRing().CreateAsync("alice", KeyRole.User, null, CancellationToken.None);
        await _store.RevokeKeyAsync(key.Id, _time.GetUtcNow(), CancellationToken.None);

        var restarted = NewRing();
        await restarted.LoadAsync(CancellationToken.None);

        restarted.Authenticate(secret).Should().BeNull();
    }

    [Fact]
    public async Task LoadAsync_StoredKey_AuthenticatesAfterRestart()
    {
        var (key, secret) = await NewRing().CreateAsync("alice", KeyRole.User, null, CancellationToken.None);

        var restarted = NewRing();
        await restarted.LoadAsync(CancellationToken.None);

        restarted.Authenticate(secret)!.KeyId.Should().Be(key.Id);
    }

    [Fact]
    public async Task Authenticate_ExpiredKey_IsNullOnceTimePasses()
    {
        var ring = NewRing();
        var expiresAt = _time.GetUtcNow().AddHours(1);
        var (_, secret) = await ring.CreateAsync("temp", KeyRole.User, expiresAt, CancellationToken.None);

        ring.Authenticate(secret).Should().NotBeNull();

        _time.Advance(TimeSpan.FromMinutes(59));
        ring.Authenticate(secret).Should().NotBeNull();

        _time.Advance(TimeSpan.FromMinutes(1));
        ring.Authenticate(secret).Should().BeNull();
    }

    [Fact]
    public async Task Authenticate_ConfiguredAdminKey_IsAdmin()
    {
        var ring = NewRing(ConfiguredAdminKey);
        await ring.LoadAsync(CancellationToken.None);

        var caller = ring.Authenticate(ConfiguredAdminKey);

        caller.Should().NotBeNull();
        caller!.IsAdmin.Should().BeTrue();
        caller.KeyId.Should().Be(KeyRing.ConfiguredAdminId);
    }

    [Fact]
    public async Task LoadAsync_ConfiguredAdminKey_IsNotWrittenToStore()
    {
        var ring = NewRing(ConfiguredAdminKey);
        await ring.LoadAsync(CancellationToken.None);

        _store.Keys.Should().BeEmpty();
    }

    [Fact]
    public async Task Authenticate_ConfiguredAdminKey_StillWorksAfterAKeyIsCreated()
    {
        var ring = NewRing(ConfiguredAdminKey);
        await ring.LoadAsync(CancellationToken.None);

        var (_, secret) = await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);

        ring.Authenticate(ConfiguredAdminKey)!.IsAdmin.Should().BeTrue();
        ring.Authenticate(secret)!.IsAdmin.Should().BeFalse();
    }

    [Fact]
    public async Task EnsureAdminKeyAsync_FirstStart_CreatesOneWorkingAdminKey()
    {
        var ring = NewRing();
        await ring.LoadAsync(CancellationToken.None);

        var secret = await ring.EnsureAdminKeyAsync(CancellationToken.None);

        secret.Should().NotBeNullOrEmpty();
        _store.Keys.Should().ContainSingle().Which.Role.Should().Be(KeyRole.Admin);
        ring.Authenticate(secret!)!.IsAdmin.Should().BeTrue();
    }

    [Fact]
    public async Task EnsureAdminKeyAsync_SecondCall_ReturnsNullAndCreatesNothing()
    {
        var ring = NewRing();
        await ring.LoadAsync(CancellationToken.None);
        await ring.EnsureAdminKeyAsync(CancellationToken.None);

        var second = await ring.EnsureAdminKeyAsync(CancellationToken.None);

        second.Should().BeNull();
        _store.Keys.Should().ContainSingle();
    }

    [Fact]
    public async Task EnsureAdminKeyAsync_AfterRestart_ReturnsNullAndCreatesNothing()
    {
        await NewRing().EnsureAdminKeyAsync(CancellationToken.None);

        var restarted = NewRing();
        await restarted.LoadAsync(CancellationToken.None);

        (await restarted.EnsureAdminKeyAsync(CancellationToken.None)).Should().BeNull();
        _store.Keys.Should().ContainSingle();
    }

    [Fact]
    public async Task EnsureAdminKeyAsync_AdminKeyConfigured_CreatesNothing()
    {
        var ring = NewRing(ConfiguredAdminKey);
        await ring.LoadAsync(CancellationToken.None);

        (await ring.EnsureAdminKeyAsync(CancellationToken.None)).Should().BeNull();
        _store.Keys.Should().BeEmpty();
    }

    [Fact]
    public async Task EnsureAdminKeyAsync_OnlyUserKeysStored_CreatesAdminKey()
    {
        var ring = NewRing();
        await ring.CreateAsync("alice", KeyRole.User, null, CancellationToken.None);

        var secret = await ring.EnsureAdminKeyAsync(CancellationToken.None);

        secret.Should().NotBeNull();
        ring.Authenticate(secret!)!.IsAdmin.Should().BeTrue();
    }

    [Fact]
    public async Task EnsureAdminKeyAsync_StoredAdminKeyRevoked_CreatesANewOne()
    {
        var ring = NewRing();
        var first = await ring.EnsureAdminKeyAsync(CancellationToken.None);
        await ring.RevokeAsync(_store.Keys.Single().Id, CancellationToken.None);

        var second = await ring.EnsureAdminKeyAsync(CancellationToken.None);

        second.Should().NotBeNull().And.NotBe(first);
        ring.Authenticate(second!)!.IsAdmin.Should().BeTrue();
        ring.Authenticate(first!).Should().BeNull();
    }

    [Fact]
    public async Task RotateAsync_WithGrace_BothSecretsWorkUntilItEnds_ThenOnlyTheNew()
    {
        var ring = NewRing();
        var (key, old) = await ring.CreateAsync("ci", KeyRole.User, null, CancellationToken.None);

        var (rotated, fresh) = (await ring.RotateAsync(key.Id, TimeSpan.FromMinutes(5), CancellationToken.None))!.Value;

        rotated.Id.Should().Be(key.Id);
        ring.Authenticate(old)!.KeyId.Should().Be(key.Id);
        ring.Authenticate(fresh)!.KeyId.Should().Be(key.Id);
        _time.Advance(TimeSpan.FromMinutes(5));
        ring.Authenticate(old).Should().BeNull();
        ring.Authenticate(fresh).Should().NotBeNull();
        _store.Keys.Single().Hash.Should().Equal(KeyHash.Of(fresh).ToBytes());
    }

    [Fact]
    public async Task RotateAsync_GraceLongerThanTheKeysLife_OldSecretEndsWithTheKey()
    {
        var ring = NewRing();
        var (key, old) = await ring.CreateAsync("ci", KeyRole.User, _time.GetUtcNow().AddMinutes(1), CancellationToken.None);

        await ring.RotateAsync(key.Id, TimeSpan.FromHours(1), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));

        ring.Authenticate(old).Should().BeNull();
    }

    [Fact]
    public async Task UpdateAsync_NewLimits_SameStateAndWhatItUsed()
    {
        var ring = NewRing();
        var (key, secret) = await ring.CreateAsync(KeySettings.Of("team", KeyRole.User) with { Limits = KeyLimits.None with { RequestsPerMinute = 10 } }, CancellationToken.None);
        var before = ring.Authenticate(secret)!;
        (await before.State!.TryStartAsync()).Should().BeNull();

        var updated = await ring.UpdateAsync(key.Id, s => s with { Limits = s.Limits with { RequestsPerMinute = 20 }, Models = ["llama3*"] }, CancellationToken.None);

        updated!.Limits.RequestsPerMinute.Should().Be(20);
        var after = ring.Authenticate(secret)!;
        after.State.Should().BeSameAs(before.State);
        after.State!.Status().Requests!.Remaining.Should().Be(19);
        after.Models.Allows("qwen3:8b").Should().BeFalse();
        (await ring.UpdateAsync("key_missing", s => s, CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task SaveUsesAsync_StoresWhenEachKeyWasLastPresented()
    {
        var ring = NewRing();
        var (used, secret) = await ring.CreateAsync("used", KeyRole.User, null, CancellationToken.None);
        var (unused, _) = await ring.CreateAsync("unused", KeyRole.User, null, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(3));
        ring.Authenticate(secret);

        await ring.SaveUsesAsync(CancellationToken.None);

        _store.Keys.Single(k => k.Id == used.Id).LastUsedAt.Should().Be(_time.GetUtcNow());
        _store.Keys.Single(k => k.Id == unused.Id).LastUsedAt.Should().BeNull();
    }
}
