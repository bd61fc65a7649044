using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Corral.Access;

/// <summary>
/// The SHA-256 of a key's secret, as a value usable as a dictionary key. A fast hash is right here (not a
/// password KDF): Corral's secrets carry 256 random bits, so the hash cannot be reversed by guessing, and a slow
/// KDF would be paid on every request.
/// </summary>
internal readonly record struct KeyHash(ulong A, ulong B, ulong C, ulong D)
{
    public static KeyHash Of(ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = secret.Length <= 256 ? stackalloc byte[secret.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(secret.Length)];
        var length = Encoding.UTF8.GetBytes(secret, utf8);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(utf8[..length], hash);
        return FromBytes(hash);
    }

    public static KeyHash FromBytes(ReadOnlySpan<byte> hash) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(hash),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));

    public byte[] ToBytes()
    {
        var bytes = new byte[32];
        WriteTo(bytes);
        return bytes;
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, A);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], B);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], C);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], D);
    }

    /// <summary>Compares two hashes in constant time (no branch depends on where they differ).</summary>
    public bool FixedTimeEquals(in KeyHash other) => ((A ^ other.A) | (B ^ other.B) | (C ^ other.C) | (D ^ other.D)) == 0;
}
