namespace Corral.Access;

/// <summary>A request refused by a rate: the limit's field name and value, OpenAI's type for it, and when to retry.</summary>
internal sealed record RateRefusal(string Limit, long Value, string Type, TimeSpan RetryAfter);

/// <summary>One rate of a key now: its limit, what remains, and how long until it is whole again.</summary>
internal sealed record RateWindow(long Limit, long Remaining, TimeSpan Reset);

/// <summary>The key's rates now; null for a rate it does not have.</summary>
internal sealed record RateStatus(RateWindow? Requests, RateWindow? TokensPerMinute, RateWindow? TokensPerDay);
