namespace Corral.Simulator;

/// <summary>Every request a <see cref="SimulatedOllama"/> received, in arrival order (control routes excluded).</summary>
public sealed class RequestJournal
{
    private readonly Lock _gate = new();
    private readonly List<JournalEntry> _entries = [];
    private readonly List<(Func<JournalEntry, bool> Predicate, TaskCompletionSource<JournalEntry> Waiter)> _waiters = [];

    /// <summary>Snapshot of the entries, in arrival order.</summary>
    public IReadOnlyList<JournalEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>
    /// Completes with the first entry matching <paramref name="predicate"/>, whether it is already recorded
    /// or arrives later; throws <see cref="TimeoutException"/> after <paramref name="timeout"/> (real time).
    /// </summary>
    public async Task<JournalEntry> WaitForAsync(Func<JournalEntry, bool> predicate, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var waiter = new TaskCompletionSource<JournalEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (var existing in _entries)
            {
                if (predicate(existing))
                {
                    return existing;
                }
            }

            _waiters.Add((predicate, waiter));
        }

        try
        {
            return await waiter.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Waiter == waiter);
            }

            throw new TimeoutException($"No journal entry matched within {timeout}.");
        }
    }

    /// <summary>Forgets every entry recorded so far.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    internal void Add(JournalEntry entry)
    {
        List<TaskCompletionSource<JournalEntry>>? matched = null;
        lock (_gate)
        {
            _entries.Add(entry);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Predicate(entry))
                {
                    (matched ??= []).Add(_waiters[i].Waiter);
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (matched is not null)
        {
            foreach (var waiter in matched)
            {
                waiter.TrySetResult(entry);
            }
        }
    }
}
