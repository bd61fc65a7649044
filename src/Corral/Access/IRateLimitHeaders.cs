namespace Corral.Access;

/// <summary>
/// Endpoint metadata of a surface that tells clients their key's rates on every answer (OpenAI's
/// <c>x-ratelimit-*</c> headers on <c>/v1</c>). Written just before the answer starts, so they count the request itself.
/// </summary>
internal interface IRateLimitHeaders
{
    void Write(IHeaderDictionary headers, RateStatus rates);
}
