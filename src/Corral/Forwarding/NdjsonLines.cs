using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Corral.Forwarding;

/// <summary>Splits a byte stream into NDJSON lines as they arrive (a last line without '\n' counts too).</summary>
internal static class NdjsonLines
{
    public static async IAsyncEnumerable<byte[]> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                var lines = new List<byte[]>();
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    if (!IsBlank(line))
                    {
                        lines.Add(line.ToArray());
                    }

                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }

                if (result.IsCompleted && !IsBlank(buffer))
                {
                    lines.Add(buffer.ToArray());
                    buffer = buffer.Slice(buffer.End);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var line in lines)
                {
                    yield return line;
                }

                if (result.IsCompleted)
                {
                    yield break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
