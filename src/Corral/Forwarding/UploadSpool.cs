using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Corral.Pipeline;
using Microsoft.Win32.SafeHandles;

namespace Corral.Forwarding;

/// <summary>
/// A request body too large to hold in memory (an audio upload) that is streamed on as it arrives and kept on disk
/// behind it: every read (<see cref="OpenRead"/>, <see cref="ToContent"/>) starts at the first byte, takes what the
/// temporary file already has, then pulls the rest from the client, writing it to the file first. So the surface
/// reads only as far as the field that routes the upload, the backend then gets the whole body while the client is
/// still sending it, and a failover sends it again from the start. Reads are sequential in practice (one attempt
/// after another); pulling from the client is serialised all the same. Bounded by the configured limit. The file is
/// unlinked when the spool is disposed (a process killed before that leaves it in the temporary folder, named
/// <c>corral-upload-…</c>).
/// </summary>
internal sealed class UploadSpool : IDisposable
{
    private const int ChunkBytes = 64 * 1024;
    private readonly SafeFileHandle _file;
    private readonly PipeReader _source;
    private readonly long _maxBytes;
    private readonly long? _declaredLength;
    private readonly SemaphoreSlim _pulling = new(1, 1);
    private long _length;
    private bool _complete;

    private UploadSpool(PipeReader source, long maxBytes, long? declaredLength)
    {
        var path = Path.Combine(Path.GetTempPath(), "corral-upload-" + Guid.NewGuid().ToString("N"));
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        _source = source;
        _maxBytes = maxBytes;
        _declaredLength = declaredLength;
    }

    /// <summary>Bytes taken from the client so far (all of them once the body ended).</summary>
    public long Length => Volatile.Read(ref _length);

    /// <summary>
    /// A spool over the client's body (<paramref name="declaredLength"/>: its <c>Content-Length</c>, if it sent one), or
    /// the 413 when the body says it is larger than <paramref name="maxBytes"/>.
    /// </summary>
    public static (UploadSpool? Spool, ProxyError? Error) Open(PipeReader source, long maxBytes, long? declaredLength) =>
        declaredLength > maxBytes ? (null, TooLarge(maxBytes)) : (new UploadSpool(source, maxBytes, declaredLength), null);

    /// <summary>Takes the whole body from the client (for one without a <c>Content-Length</c>, whose size shows only at its end); the 413 when it is too large.</summary>
    public async Task<ProxyError?> ReadToEndAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await AvailableAsync(Length, cancellationToken) > 0)
            {
            }

            return null;
        }
        catch (UploadTooLargeException)
        {
            return TooLarge(_maxBytes);
        }
    }

    /// <summary>
    /// The body's last bytes, as many as <paramref name="buffer"/> holds, once the client's body ended (none before):
    /// for the small fields a form puts after its file.
    /// </summary>
    public int ReadTail(Span<byte> buffer)
    {
        if (!Volatile.Read(ref _complete))
        {
            return 0;
        }

        var length = Length;
        var take = (int)Math.Min(buffer.Length, length);
        return RandomAccess.Read(_file, buffer[..take], length - take);
    }

    /// <summary>A stream over the body from its first byte (it pulls from the client as it goes; disposing it leaves the spool open).</summary>
    public Stream OpenRead() => new Reader(this);

    /// <summary>Content carrying the body exactly as it came (its length when the client declared one).</summary>
    public HttpContent ToContent() => new Content(this);

    public void Dispose()
    {
        _file.Dispose();
        _pulling.Dispose();
    }

    private static ProxyError TooLarge(long maxBytes) =>
        ProxyError.TooLarge($"request body too large: the limit is {maxBytes} bytes (see --max-body-size)");

    // How many bytes from offset are on disk, pulling the next ones from the client when there are none yet; 0 at the end.
    private async ValueTask<long> AvailableAsync(long offset, CancellationToken cancellationToken)
    {
        while (true)
        {
            var length = Volatile.Read(ref _length);
            if (offset < length)
            {
                return length - offset;
            }

            if (Volatile.Read(ref _complete))
            {
                return 0;
            }

            await _pulling.WaitAsync(cancellationToken);
            try
            {
                if (offset < _length || _complete)
                {
                    continue;
                }

                var result = await _source.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (_length + buffer.Length > _maxBytes)
                {
                    _source.AdvanceTo(buffer.End);
                    throw new UploadTooLargeException();
                }

                var at = _length;
                foreach (var segment in buffer)
                {
                    await RandomAccess.WriteAsync(_file, segment, at, cancellationToken);
                    at += segment.Length;
                }

                _source.AdvanceTo(buffer.End);
                Volatile.Write(ref _length, at);
                if (result.IsCompleted)
                {
                    Volatile.Write(ref _complete, true);
                }
            }
            finally
            {
                _pulling.Release();
            }
        }
    }

    private async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var available = await AvailableAsync(offset, cancellationToken);
        return available == 0 ? 0 : await RandomAccess.ReadAsync(_file, buffer[..(int)Math.Min(buffer.Length, available)], offset, cancellationToken);
    }

    /// <summary>The client sent more than the limit after all (a body without <c>Content-Length</c>).</summary>
    private sealed class UploadTooLargeException() : IOException("the upload is larger than --max-body-size");

    private sealed class Content(UploadSpool spool) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            try
            {
                long offset = 0;
                int read;
                while ((read = await spool.ReadAsync(offset, buffer.AsMemory(0, ChunkBytes), cancellationToken)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    offset += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = spool._declaredLength ?? (Volatile.Read(ref spool._complete) ? spool.Length : 0);
            return spool._declaredLength is not null || Volatile.Read(ref spool._complete);
        }
    }

    private sealed class Reader(UploadSpool spool) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await spool.ReadAsync(_position, buffer, cancellationToken);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Multipart parsing and HttpClient read asynchronously; a synchronous read waits for the same.
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
