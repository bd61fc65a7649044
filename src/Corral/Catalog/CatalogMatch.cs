namespace Corral.Catalog;

/// <summary>
/// A requested model name and the catalog entry it names (null: none). <see cref="Asked"/> equals the name the
/// client sent, and is the same string object for every request of a catalog snapshot that sent that name: what
/// the usage writer and the request log meet request after request find it by reference, without hashing.
/// </summary>
internal readonly record struct CatalogMatch(string Asked, CatalogModel? Model);
