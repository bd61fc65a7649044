namespace Corral.Simulator;

/// <summary>One request received by a <see cref="SimulatedOllama"/>.</summary>
public sealed class JournalEntry
{
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _clientAborted;
    private volatile bool _serverAborted;

    internal JournalEntry(string method, string path, string queryString, IReadOnlyDictionary<string, string> headers)
    {
        Method = method;
        Path = path;
        QueryString = queryString;
        Headers = headers;
    }

    /// <summary>HTTP method.</summary>
    public string Method { get; }

    /// <summary>Request path, e.g. <c>/api/chat</c>.</summary>
    public string Path { get; }

    /// <summary>Query string including the leading <c>?</c>, or empty.</summary>
    public string QueryString { get; }

    /// <summary>Request headers; case-insensitive keys, repeated values joined with ", ".</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Request body as received; empty for blob uploads (see <see cref="BodyLength"/>).</summary>
    public byte[] Body { get; private set; } = [];

    /// <summary>Number of body bytes received.</summary>
    public long BodyLength { get; private set; }

    /// <summary>The <c>model</c> (or <c>name</c>) field of a JSON object body, if any.</summary>
    public string? Model { get; private set; }

    /// <summary>Completes when the simulator has finished handling the request.</summary>
    public Task Completed => _completed.Task;

    /// <summary>True once the simulator saw the client disconnect before it finished.</summary>
    public bool ClientAborted => _clientAborted;

    /// <summary>Completes when <see cref="ClientAborted"/> becomes true.</summary>
    public Task Aborted => _aborted.Task;

    internal bool IsFinished => _completed.Task.IsCompleted;

    internal void SetBody(byte[] body, string? model)
    {
        Body = body;
        BodyLength = body.LongLength;
        Model = model;
    }

    internal void SetStreamedBodyLength(long length) => BodyLength = length;

    /// <summary>The simulator itself is dropping the connection (a fault or a stop): not a client abort.</summary>
    internal void MarkServerAborted() => _serverAborted = true;

    internal void MarkClientAborted()
    {
        if (_serverAborted || IsFinished)
        {
            return;
        }

        _clientAborted = true;
        _aborted.TrySetResult();
    }

    internal void MarkCompleted() => _completed.TrySetResult();

    /// <inheritdoc />
    public override string ToString() => $"{Method} {Path}{QueryString}";
}
