using System.Buffers;
using Corral.Usage;

namespace Corral.OpenAi;

/// <summary>Turns a native NDJSON answer, line by line, into OpenAI server-sent events.</summary>
internal interface ISseConverter
{
    /// <summary>True once the terminating frames (or an error frame) were written.</summary>
    bool Done { get; }

    /// <summary>Tokens reported by the backend's final line.</summary>
    TokenUsage Usage { get; }

    /// <summary>Appends the frames for one native line to <paramref name="output"/> (possibly none).</summary>
    void Convert(ReadOnlySpan<byte> line, IBufferWriter<byte> output);

    /// <summary>Ends the stream with an error frame.</summary>
    void Fail(string message, IBufferWriter<byte> output);
}
