namespace Corral.Fleet;

/// <summary>
/// The requests waiting for a slot, served in turn across callers: one queue per key, and the keys take turns,
/// so one busy key cannot starve the others. Used under the scheduler's lock.
/// </summary>
internal sealed class FairQueue<T>(Func<T, string> keyOf)
    where T : class
{
    private readonly Dictionary<string, LinkedList<T>> _queues = new(StringComparer.Ordinal);
    private readonly List<string> _turns = [];
    private int _nextTurn;

    public int Count { get; private set; }

    /// <summary>Adds a waiter at the end of its key's queue.</summary>
    public LinkedListNode<T> Enqueue(T waiter)
    {
        var key = keyOf(waiter);
        if (!_queues.TryGetValue(key, out var queue))
        {
            queue = new LinkedList<T>();
            _queues[key] = queue;
            _turns.Add(key);
        }

        Count++;
        return queue.AddLast(waiter);
    }

    /// <summary>Takes a waiter out of its queue (it started, timed out or left); false when it was not queued.</summary>
    public bool Remove(LinkedListNode<T> node)
    {
        if (node.List is not { } queue)
        {
            return false;
        }

        var key = keyOf(node.Value);
        queue.Remove(node);
        Count--;
        if (queue.Count == 0)
        {
            var turn = _turns.IndexOf(key);
            _turns.RemoveAt(turn);
            _queues.Remove(key);
            if (_nextTurn > turn)
            {
                _nextTurn--;
            }
        }

        return true;
    }

    /// <summary>
    /// Asks <paramref name="canStart"/> about the waiters in turn, starting with the key whose turn it is and going
    /// through each key's queue in order; the first that can start leaves the queue and goes to
    /// <paramref name="start"/>, and the next turn goes to the following key. False when none can start.
    /// </summary>
    public bool StartNext(Func<T, bool> canStart, Action<T> start)
    {
        for (var t = 0; t < _turns.Count; t++)
        {
            var turn = (_nextTurn + t) % _turns.Count;
            for (var node = _queues[_turns[turn]].First; node is not null; node = node.Next)
            {
                if (canStart(node.Value))
                {
                    _nextTurn = turn + 1;
                    Remove(node);
                    start(node.Value);
                    return true;
                }
            }
        }

        return false;
    }
}
