using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>
/// A request under way on its backend: the answer (headers arrived) and what it holds there (a slot, or for a
/// request that takes none, just its count of outstanding requests). Completing it returns the slot and, when the
/// answer succeeded, records the model as loaded until its keep_alive ends.
/// </summary>
internal sealed class Dispatch(Backend backend, ModelLocation location, Admission? admission, Backend.Lease lease, HttpResponseMessage response, TimeSpan? keepAlive, TimeProvider time) : IDisposable
{
    private Backend.Lease _lease = lease;

    public Backend Backend { get; } = backend;

    public ModelLocation Location { get; } = location;

    public HttpResponseMessage Response { get; } = response;

    /// <summary>Call when the whole answer was relayed; then dispose.</summary>
    public void Complete()
    {
        if (admission is null || !Response.IsSuccessStatusCode)
        {
            return;
        }

        var now = time.GetUtcNow();
        Backend.Loaded.MarkLoaded(admission.ModelKey, KeepAlive.Until(keepAlive, now), now);
        admission.Succeeded();
    }

    public void Dispose()
    {
        Response.Dispose();
        admission?.Dispose();
        _lease.Dispose();
    }
}

/// <summary>Either a request under way (<see cref="Dispatch"/>) or the error the client gets.</summary>
internal readonly record struct DispatchResult(Dispatch? Dispatch, Pipeline.ProxyError? Error)
{
    public static implicit operator DispatchResult(Dispatch dispatch) => new(dispatch, null);

    public static implicit operator DispatchResult(Pipeline.ProxyError error) => new(null, error);
}
