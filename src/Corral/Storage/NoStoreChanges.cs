namespace Corral.Storage;

/// <summary>The embedded SQLite store's changes: none come from elsewhere (one process owns the file), so it never raises.</summary>
internal sealed class NoStoreChanges : IStoreChanges
{
    public event Action<StoreTopic>? Changed
    {
        add { }
        remove { }
    }

    public bool IsConnected => true;
}
