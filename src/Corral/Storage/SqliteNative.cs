using System.Runtime.InteropServices;

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

    [DllImport(Library, EntryPoint = "sqlite3_bind_int64", ExactSpelling = true)]
    [SuppressGCTransition]
    public static extern int BindInt64(nint statement, int index, long value);

    [DllImport(Library, EntryPoint = "sqlite3_bind_null", ExactSpelling = true)]
    [SuppressGCTransition]
    public static extern int BindNull(nint statement, int index);

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

    [DllImport(Library, EntryPoint = "sqlite3_step", ExactSpelling = true)]
    public static extern int Step(nint statement);

    [DllImport(Library, EntryPoint = "sqlite3_reset", ExactSpelling = true)]
    public static extern int Reset(nint statement);
}
