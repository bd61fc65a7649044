namespace Corral.Storage;

/// <summary>
/// A backend as stored: its name and its settings as the JSON of an admin API body (key included, in the
/// clear: it is the credential Corral presents to that backend, so it must be readable).
/// </summary>
internal sealed record StoredBackend(string Name, string OptionsJson, DateTimeOffset UpdatedAt);
