namespace Corral.Usage;

/// <summary>What a usage query adds requests up by (<c>groupBy</c>).</summary>
internal enum UsageGrouping
{
    /// <summary>The model the request was routed to, else the one it asked for.</summary>
    Model,

    /// <summary>The caller's key (its id; the answer also names it).</summary>
    Key,

    /// <summary>The end user a key that may name users named.</summary>
    User,

    Backend,

    /// <summary>The route as mapped (<c>/api/chat</c>, <c>/v1/chat/completions</c>).</summary>
    Route,

    /// <summary>The status the client got.</summary>
    Status,

    /// <summary>The UTC hour the request started in.</summary>
    Hour,

    /// <summary>The UTC day the request started on.</summary>
    Day,
}
