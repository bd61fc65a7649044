namespace Corral.Storage;

/// <summary>A model preset as stored: its name and its definition as the JSON of an admin API body.</summary>
internal sealed record StoredPreset(string Name, string DefinitionJson, DateTimeOffset UpdatedAt);
