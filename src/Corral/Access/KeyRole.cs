namespace Corral.Access;

/// <summary>What a key may do: users run inference and read; admins also manage models, keys and the fleet.</summary>
internal enum KeyRole
{
    User,
    Admin,
}
