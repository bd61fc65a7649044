using Corral.Access;

namespace Corral.Tests.Access;

public sealed class ConstantTimeTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(100)]
    public void Equals_EqualBytes_True(int length)
    {
        var a = Enumerable.Range(0, length).Select(i => (byte)(i * 31)).ToArray();

        ConstantTime.Equals(a, a.ToArray()).Should().BeTrue();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(100)]
    public void Equals_OneByteDiffersAnywhere_False(int length)
    {
        var a = Enumerable.Range(0, length).Select(i => (byte)(i * 31)).ToArray();
        for (var position = 0; position < length; position++)
        {
            var b = a.ToArray();
            b[position] ^= 0x01;

            ConstantTime.Equals(a, b).Should().BeFalse($"byte {position} differs");
        }
    }

    [Fact]
    public void Equals_DifferentLengths_False()
    {
        ConstantTime.Equals([1, 2, 3], [1, 2, 3, 0]).Should().BeFalse();
    }
}
