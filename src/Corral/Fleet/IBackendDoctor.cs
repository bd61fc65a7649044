namespace Corral.Fleet;

/// <summary>
/// Says why a backend that went down cannot be used, in the doctor's words: the first check that is not ok, with
/// its fix. Asked each time a backend goes down, so the log line and the answers that name the backend can carry
/// the diagnosis rather than a bare socket error, and again every <c>RediagnoseInterval</c> while it stays down.
/// </summary>
internal interface IBackendDoctor
{
    /// <summary>The diagnosis of <paramref name="backend"/>, or null when every check passed (the failure was passing).</summary>
    Task<Diagnosis?> DiagnoseAsync(Backend backend, CancellationToken cancellationToken);
}

/// <summary>What the doctor found wrong with a backend: the check (<c>tcp</c>, <c>http</c>...), one sentence, and the fix.</summary>
internal sealed record Diagnosis(string Check, string Finding, string? Fix)
{
    /// <summary>The finding and its fix as one line.</summary>
    public override string ToString() => Fix is null ? Finding : $"{Finding}; fix: {Fix}";
}
