using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Corral.Pipeline;
using Microsoft.Win32.SafeHandles;

namespace Corral.Forwarding;

/// <summary>
/// A request body too large to hold in memory (an audio upload) and needed again: written to a temporary file as it
/// arrives, bounded by the configured limit, then read from there by offset, as many times as needed: once to find
/// what routes it, once per attempt (so failover can send it again). The file is unlinked when the body is
/// disposed (a process killed before that leaves it in the temporary folder, named <c>corral-upload-…</c>).
/// </summary>
internal sealed class SpooledBody : IDisposable
{
    private const int ChunkBytes = 64 * 1024;
    private readonly SafeFileHandle _file;

    private SpooledBody(SafeFileHandle file, long length)
    {
        _file = file;
        Length = length;
    }

    public long Length { get; }

    /// <summary>Writes the body to a temporary file; on failure returns null and the error, as a value.</summary>
    public static async Task<(SpooledBody? Body, ProxyError? Error)> ReadAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetTempPath(), "corral-upload-" + Guid.NewGuid().ToString("N"));
        var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        long length = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var sequence = result.Buffer;
                if (length + sequence.Length > maxBytes)
                {
                    reader.AdvanceTo(sequence.End);
                    file.Dispose();
                    return (null, ProxyError.TooLarge($"request body too large: the limit is {maxBytes} bytes (see --max-body-size)"));
                }

                foreach (var segment in sequence)
                {
                    await RandomAccess.WriteAsync(file, segment, length, cancellationToken);
                    length += segment.Length;
                }

                reader.AdvanceTo(sequence.End);
                if (result.IsCompleted)
                {
                    return (new SpooledBody(file, length), null);
                }
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A stream over the body from its start (for reading it; the body stays open when it is disposed).</summary>
    public Stream OpenRead() => new Reader(this);

    /// <summary>Content carrying the body exactly as it came, with its length.</summary>
    public HttpContent ToContent() => new Content(this);

    /// <summary>Copies the body's bytes from <paramref name="start"/> to <paramref name="end"/> to <paramref name="target"/>.</summary>
    public async Task CopyToAsync(Stream target, long start, long end, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (var offset = start; offset < end;)
            {
                var read = await RandomAccess.ReadAsync(_file, buffer.AsMemory(0, (int)Math.Min(ChunkBytes, end - offset)), offset, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _file.Dispose();

    private sealed class Content(SpooledBody body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            body.CopyToAsync(stream, 0, body.Length, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    private sealed class Reader(SpooledBody body) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => body.Length;

        public override long Position { get => _position; set => _position = Math.Clamp(value, 0, body.Length); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = RandomAccess.Read(body._file, buffer[..(int)Math.Min(buffer.Length, body.Length - _position)], _position);
            _position += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await RandomAccess.ReadAsync(body._file, buffer[..(int)Math.Min(buffer.Length, body.Length - _position)], _position, cancellationToken);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => body.Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
