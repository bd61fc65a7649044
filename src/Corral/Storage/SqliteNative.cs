using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Corral.Storage;

/// <summary>
/// Direct calls into the SQLite library that SQLitePCLRaw loads (<c>e_sqlite3</c>), for what is done once per usage
/// record or rollup row: about twenty binds and a step a record written, eight column reads a rollup row read. Through
/// SQLitePCLRaw each call also costs a SafeHandle reference count and a GC transition: about 45 ns a bind here, against
/// 20 ns. Binds and column reads never block and never call back into .NET, which is what
/// <see cref="SuppressGCTransitionAttribute"/> asks of a function; a step does I/O, so it keeps its transition. Used
/// only with statements that the caller keeps alive.
/// </summary>
internal static class SqliteNative
{
    private const string Library = "e_sqlite3";

    /// <summary>Binds an integer; a failure (a wrong index: a bug) throws rather than write a wrong row.</summary>
    public static void BindInt64(nint statement, int index, long value) => Check(NativeBindInt64(statement, index, value), "bind");

    /// <summary>Binds NULL; a failure throws, as <see cref="BindInt64"/>.</summary>
    public static void BindNull(nint statement, int index) => Check(NativeBindNull(statement, index), "bind");

    /// <summary>Runs the statement one step; its result code is the caller's to read.</summary>
    public static int Step(nint statement) => NativeStep(statement);

    /// <summary>
    /// Makes the statement ready to run again. Its result repeats the error of the last step, which the caller has
    /// already read from <see cref="Step"/>, so it is not looked at again.
    /// </summary>
    public static void Reset(nint statement) => _ = NativeReset(statement);

    [DllImport(Library, EntryPoint = "sqlite3_column_int64", ExactSpelling = true)]
    [SuppressGCTransition]
    public static extern long ColumnInt64(nint statement, int column);

    [DllImport(Library, EntryPoint = "sqlite3_column_type", ExactSpelling = true)]
    [SuppressGCTransition]
    public static extern int ColumnType(nint statement, int column);

    [DllImport(Library, EntryPoint = "sqlite3_column_blob", ExactSpelling = true)]
    [SuppressGCTransition]
    public static extern nint ColumnBlob(nint statement, int column);

    [DllImport(Library, EntryPoint = "sqlite3_column_bytes", ExactSpelling = true)]
    [SuppressGCTransition]
    public static extern int ColumnBytes(nint statement, int column);

    private static void Check(int rc, string what)
    {
        if (rc != 0)
        {
            throw new SqliteException($"SQLite {what} failed with code {rc}", rc);
        }
    }

    [DllImport(Library, EntryPoint = "sqlite3_bind_int64", ExactSpelling = true)]
    [SuppressGCTransition]
    private static extern int NativeBindInt64(nint statement, int index, long value);

    [DllImport(Library, EntryPoint = "sqlite3_bind_null", ExactSpelling = true)]
    [SuppressGCTransition]
    private static extern int NativeBindNull(nint statement, int index);

    [DllImport(Library, EntryPoint = "sqlite3_step", ExactSpelling = true)]
    private static extern int NativeStep(nint statement);

    [DllImport(Library, EntryPoint = "sqlite3_reset", ExactSpelling = true)]
    private static extern int NativeReset(nint statement);
}
