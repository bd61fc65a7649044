using System.Net.Sockets;

namespace Corral.Storage;

/// <summary>Which failures of a store mean "the database cannot be reached" (an answer of 503), rather than a bug.</summary>
internal static class StoreErrors
{
    /// <summary>The message for a client whose request needed the database while it was away.</summary>
    public const string Unreachable = "the database cannot be reached; Corral serves on with the keys and backends it knows, and writes what it holds back when it returns";

    /// <summary>
    /// True for a connection that could not be opened, was lost, or timed out (Npgsql's own failures, or a socket's);
    /// false for an error the server answered (a statement it refused), which is Corral's to fix.
    /// </summary>
    public static bool IsUnreachable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Npgsql.PostgresException:
                    return false;
                case Npgsql.NpgsqlException or SocketException or TimeoutException:
                    return true;
            }
        }

        return false;
    }
}
