using System.Buffers;
using System.Security.Cryptography;
using Corral.Simulator.Http;
using Corral.Simulator.Models;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Endpoints;

/// <summary><c>HEAD|POST /api/blobs/:digest</c>. Uploads are hashed as they stream in; their bytes are never kept.</summary>
internal sealed class BlobEndpoints
{
    private readonly SimulatedOllama _simulator;

    public BlobEndpoints(SimulatedOllama simulator)
    {
        _simulator = simulator;
    }

    public Task HeadAsync(SimRequest request)
    {
        var digest = request.RouteValue ?? string.Empty;
        if (!BlobStore.IsValidDigest(digest))
        {
            throw ApiError.BadRequest("invalid digest format");
        }

        return _simulator.Blobs.Contains(digest)
            ? Responses.EmptyAsync(request.Http, StatusCodes.Status200OK)
            : Responses.ErrorAsync(request.Http, StatusCodes.Status404NotFound, $"blob {GoText.Quote(digest)} not found");
    }

    public async Task UploadAsync(SimRequest request)
    {
        var digest = request.RouteValue ?? string.Empty;
        if (!BlobStore.IsValidDigest(digest))
        {
            throw ApiError.BadRequest("invalid digest format");
        }

        if (_simulator.Blobs.Contains(digest))
        {
            // Like Ollama: an existing blob is acknowledged without reading the upload.
            request.Entry.SetStreamedBodyLength(request.Http.Request.ContentLength ?? 0);
            await Responses.EmptyAsync(request.Http, StatusCodes.Status200OK).ConfigureAwait(false);
            return;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        long length = 0;
        try
        {
            int read;
            while ((read = await request.Http.Request.Body.ReadAsync(buffer.AsMemory(), request.Cancellation).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            request.Entry.SetStreamedBodyLength(length);
        }

        var actual = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(actual, digest, StringComparison.Ordinal))
        {
            throw ApiError.BadRequest($"digest mismatch, expected {GoText.Quote(digest)}, got {GoText.Quote(actual)}");
        }

        _simulator.Blobs.Add(digest, length);
        await Responses.EmptyAsync(request.Http, StatusCodes.Status201Created).ConfigureAwait(false);
    }
}
