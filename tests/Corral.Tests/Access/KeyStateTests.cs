using Corral.Access;

namespace Corral.Tests.Access;

public sealed class KeyStateTests
{
    private readonly FakeTimeProvider _time = new();

    private KeyState State(KeyLimits limits)
    {
        var state = new KeyState(_time);
        state.Configure(limits);
        return state;
    }

    [Fact]
    public async Task RequestsPerMinute_ABurstOfTheLimit_ThenOneAtATimeAsTheBucketRefills()
    {
        var state = State(KeyLimits.None with { RequestsPerMinute = 3 });

        for (var i = 0; i < 3; i++)
        {
            (await state.TryStartAsync()).Should().BeNull();
        }

        var refused = (await state.TryStartAsync());

        refused.Should().NotBeNull();
        refused!.Limit.Should().Be("requestsPerMinute");
        refused.Type.Should().Be("requests");
        refused.RetryAfter.Should().Be(TimeSpan.FromSeconds(20), "3 a minute come back at one per 20 s");
        _time.Advance(TimeSpan.FromSeconds(20));
        (await state.TryStartAsync()).Should().BeNull();
        (await state.TryStartAsync()).Should().NotBeNull();
    }

    [Fact]
    public async Task Tokens_ChargedAfterTheFact_MayGoIntoDebt_ThenRefuseUntilPaidBack()
    {
        var state = State(KeyLimits.None with { TokensPerMinute = 60 });
        (await state.TryStartAsync()).Should().BeNull();

        state.Charge(90);

        var refused = (await state.TryStartAsync());
        refused!.Limit.Should().Be("tokensPerMinute");
        refused.Type.Should().Be("tokens");
        refused.RetryAfter.Should().Be(TimeSpan.FromSeconds(31), "30 tokens of debt and one to spend, at a token a second");
        state.Status().TokensPerMinute.Should().Be(new RateWindow(60, 0, TimeSpan.FromSeconds(90)));
        _time.Advance(TimeSpan.FromSeconds(31));
        (await state.TryStartAsync()).Should().BeNull();
    }

    [Fact]
    public async Task TokensPerDay_UsedUp_RefusedEvenWithMinutesToSpare()
    {
        var state = State(KeyLimits.None with { TokensPerMinute = 1000, TokensPerDay = 1000 });

        state.Charge(1000);
        _time.Advance(TimeSpan.FromMinutes(1));

        (await state.TryStartAsync())!.Limit.Should().Be("tokensPerDay");
    }

    [Fact]
    public async Task ARefusedRequest_DoesNotUseARequest()
    {
        var state = State(new KeyLimits(RequestsPerMinute: 5, TokensPerMinute: 10, TokensPerDay: null, MaxConcurrency: null));
        state.Charge(20);

        (await state.TryStartAsync()).Should().NotBeNull();

        state.Status().Requests!.Remaining.Should().Be(5);
    }

    [Fact]
    public async Task Configure_NewLimits_WhatWasUsedStaysUsed()
    {
        var state = State(KeyLimits.None with { RequestsPerMinute = 10 });
        for (var i = 0; i < 4; i++)
        {
            await state.TryStartAsync();
        }

        state.Configure(KeyLimits.None with { RequestsPerMinute = 20 });

        state.Status().Requests!.Remaining.Should().Be(16);
        state.Configure(KeyLimits.None with { RequestsPerMinute = 2 });
        state.Status().Requests!.Remaining.Should().Be(0);
    }

    [Fact]
    public async Task NoRates_NothingCounted_ConcurrencyUnlimited()
    {
        var state = State(KeyLimits.None);

        (await state.TryStartAsync()).Should().BeNull();
        state.Status().Should().Be(new RateStatus(null, null, null));
        state.Concurrency.Limit.Should().Be(int.MaxValue);
        state.Configure(KeyLimits.None with { MaxConcurrency = 2 });
        state.Concurrency.Limit.Should().Be(2);
    }

    [Fact]
    public async Task MarkUsed_RemembersTheLatestSecond()
    {
        var state = State(KeyLimits.None);
        state.LastUsed.Should().BeNull();

        state.MarkUsed(_time.GetUtcNow());

        state.LastUsed.Should().Be(_time.GetUtcNow());
    }
}
