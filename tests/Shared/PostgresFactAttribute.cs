namespace Corral.Testing;

/// <summary>A fact that needs the PostgreSQL server of <c>CORRAL_TEST_POSTGRES</c>: reported as skipped, not passed, where there is none.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestPostgres.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
