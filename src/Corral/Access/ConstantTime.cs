using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Corral.Access;

/// <summary>
/// Equality whose time depends only on the length, not on where the inputs differ. Written here because
/// <c>CryptographicOperations.FixedTimeEquals</c> is compiled without optimisation (so that the JIT cannot add
/// early exits), which made comparing a remembered 50-character key cost ~300 ns on every request. This loop
/// has no data-dependent branch either: it accumulates XORs over 64-bit words and tests the total once.
/// </summary>
internal static class ConstantTime
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool Equals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        var words = left.Length / sizeof(ulong);
        var a = MemoryMarshal.Cast<byte, ulong>(left[..(words * sizeof(ulong))]);
        var b = MemoryMarshal.Cast<byte, ulong>(right[..(words * sizeof(ulong))]);
        ulong difference = 0;
        for (var i = 0; i < a.Length; i++)
        {
            difference |= a[i] ^ b[i];
        }

        for (var i = words * sizeof(ulong); i < left.Length; i++)
        {
            difference |= (uint)(left[i] ^ right[i]);
        }

        return difference == 0;
    }
}
