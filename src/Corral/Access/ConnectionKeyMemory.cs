using System.Runtime.InteropServices;

namespace Corral.Access;

/// <summary>
/// The key last authenticated on one client connection. Kept in the connection's items; compared in constant
/// time, and valid only while the key ring has not changed since.
/// </summary>
internal sealed class ConnectionKeyMemory
{
    private char[] _token = [];
    private Caller? _caller;
    private long _version = -1;

    /// <summary>When the remembered key expires, if it does.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }

    /// <summary>The remembered caller when <paramref name="token"/> is the remembered key and the ring is unchanged.</summary>
    public Caller? Matches(ReadOnlySpan<char> token, long version)
    {
        if (_caller is null || version != _version || token.Length != _token.Length)
        {
            return null;
        }

        return ConstantTime.Equals(MemoryMarshal.AsBytes(token), MemoryMarshal.AsBytes(_token.AsSpan())) ? _caller : null;
    }

    public void Remember(ReadOnlySpan<char> token, Caller caller, long version, DateTimeOffset? expiresAt)
    {
        _token = token.ToArray();
        _caller = caller;
        _version = version;
        ExpiresAt = expiresAt;
    }
}
