namespace Corral.Fleet;

/// <summary>
/// Sticky sessions: requests that carry the same session (<c>X-Corral-Session</c>, or OpenAI's <c>user</c>) for the
/// same model go to the backend the first one went to while it can take them, so its prompt cache is reused.
/// Bounded: sessions idle for half an hour go first, then the least recently used. Used under the scheduler's lock.
/// </summary>
internal sealed class SessionAffinity(TimeProvider time)
{
    private static readonly TimeSpan s_idle = TimeSpan.FromMinutes(30);
    private const int MaxSessions = 10_000;

    private readonly Dictionary<string, (Backend Backend, DateTimeOffset LastUsed)> _sessions = new(StringComparer.Ordinal);

    /// <summary>The backend the session sticks to, if it has one.</summary>
    public Backend? BackendOf(string session) => _sessions.TryGetValue(session, out var stuck) ? stuck.Backend : null;

    /// <summary>Makes the session stick to <paramref name="backend"/> from now on.</summary>
    public void Stick(string session, Backend backend)
    {
        var now = time.GetUtcNow();
        if (_sessions.Count >= MaxSessions && !_sessions.ContainsKey(session))
        {
            foreach (var stale in _sessions.Where(s => now - s.Value.LastUsed > s_idle).Select(s => s.Key).ToArray())
            {
                _sessions.Remove(stale);
            }

            if (_sessions.Count >= MaxSessions)
            {
                _sessions.Remove(_sessions.MinBy(s => s.Value.LastUsed).Key);
            }
        }

        _sessions[session] = (backend, now);
    }
}
