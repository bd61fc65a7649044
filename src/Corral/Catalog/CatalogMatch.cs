namespace Corral.Catalog;

/// <summary>
/// A requested model name and the catalog entry it names (null: none). <see cref="Asked"/> equals the name the
/// client sent, and is the same string object for every request of a catalog snapshot that sent that name: what
/// the usage writer and the request log meet request after request find it by reference, without hashing. A name
/// of a preset has the <see cref="Preset"/>, and <see cref="Model"/> is its base (null while no backend lists it).
/// </summary>
internal readonly record struct CatalogMatch(string Asked, CatalogModel? Model, ModelPreset? Preset = null);
