using System.Globalization;
using Npgsql;

namespace Corral.Storage;

/// <summary>
/// The PostgreSQL database of <c>--database</c>: a URL (<c>postgres://user:password@host:5432/db?sslmode=require</c>,
/// also <c>postgresql://</c>, as libpq reads it) or an Npgsql connection string (<c>Host=...;Username=...</c>),
/// turned into an Npgsql connection string. Problems and descriptions never contain the password.
/// </summary>
internal static class PostgresDatabase
{
    private static readonly string[] s_schemes = ["postgres://", "postgresql://"];

    // The libpq URL parameters Corral understands, and the Npgsql setting each one sets.
    private static readonly string[] s_parameters =
        ["sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "connect_timeout", "target_session_attrs", "host", "port", "user", "password", "dbname"];

    /// <summary>The Npgsql connection string of <paramref name="text"/>, or null with the reason in <paramref name="problem"/>.</summary>
    public static string? TryParse(string text, out string? problem)
    {
        problem = null;
        text = text.Trim();
        var builder = s_schemes.Any(s => text.StartsWith(s, StringComparison.OrdinalIgnoreCase))
            ? FromUrl(text, ref problem)
            : FromConnectionString(text, ref problem);
        if (builder is null)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            problem = "names no host (like postgres://corral:PASSWORD@db.example.com:5432/corral, or Host=... in a connection string)";
            return null;
        }

        return builder.ConnectionString;
    }

    /// <summary>Where a connection string points, for messages: <c>user@host:port/database</c>, never the password.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var user = string.IsNullOrEmpty(builder.Username) ? string.Empty : builder.Username + "@";
        return $"{user}{builder.Host}:{builder.Port.ToString(CultureInfo.InvariantCulture)}/{builder.Database ?? builder.Username}";
    }

    /// <summary><paramref name="message"/> with the connection string's password, should it appear there, blanked out.</summary>
    public static string WithoutPassword(string message, string connectionString)
    {
        var password = new NpgsqlConnectionStringBuilder(connectionString).Password;
        return string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);
    }

    private static NpgsqlConnectionStringBuilder? FromConnectionString(string text, ref string? problem)
    {
        if (!text.Contains('=', StringComparison.Ordinal))
        {
            // Not echoed: whatever it is, it may hold a password.
            problem = "is neither a postgres:// URL nor an Npgsql connection string (Host=...;Username=...;Password=...;Database=...)";
            return null;
        }

        try
        {
            return new NpgsqlConnectionStringBuilder(text);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Npgsql's messages name the keyword or the position, never a value.
            problem = $"not a valid Npgsql connection string: {e.Message}";
            return null;
        }
    }

    // postgres://[user[:password]@][host[:port][,host[:port]...]][/database][?name=value&...], percent-encoded as in
    // libpq. The user part ends at the last '@', so that a password with an unencoded '/', '?' or '@' still stays in it
    // (and out of every message).
    private static NpgsqlConnectionStringBuilder? FromUrl(string url, ref string? problem)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var builder = new NpgsqlConnectionStringBuilder();
        var userAt = rest.LastIndexOf('@');
        if (userAt >= 0)
        {
            var userInfo = rest[..userAt];
            rest = rest[(userAt + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            var password = string.Empty;
            if (!TryDecode(colon >= 0 ? userInfo[..colon] : userInfo, out var user) || (colon >= 0 && !TryDecode(userInfo[(colon + 1)..], out password)))
            {
                problem = $"'{Redact(url)}': the user or password is not percent-encoded correctly (write '@' as %40, ':' as %3A, '/' as %2F)";
                return null;
            }

            builder.Username = user.Length > 0 ? user : null;
            if (colon >= 0)
            {
                builder.Password = password;
            }
        }

        var query = string.Empty;
        var queryAt = rest.IndexOf('?', StringComparison.Ordinal);
        if (queryAt >= 0)
        {
            query = rest[(queryAt + 1)..];
            rest = rest[..queryAt];
        }

        var database = string.Empty;
        var pathAt = rest.IndexOf('/', StringComparison.Ordinal);
        if (pathAt >= 0)
        {
            database = rest[(pathAt + 1)..];
            rest = rest[..pathAt];
        }

        if (!TryHosts(rest, builder, out var hostProblem))
        {
            problem = $"'{Redact(url)}': {hostProblem}";
            return null;
        }

        if (database.Length > 0)
        {
            if (!TryDecode(database, out var name) || name.Contains('/', StringComparison.Ordinal))
            {
                problem = $"'{Redact(url)}': the database name '{database}' is not one name, percent-encoded";
                return null;
            }

            builder.Database = name;
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals >= 0 ? pair[..equals] : pair;
            if (!TryDecode(equals >= 0 ? pair[(equals + 1)..] : string.Empty, out var value))
            {
                problem = $"'{Redact(url)}': the value of '{name}' is not percent-encoded correctly";
                return null;
            }

            if (!TrySet(builder, name, value, out var parameterProblem))
            {
                problem = $"'{Redact(url)}': {parameterProblem}";
                return null;
            }
        }

        return builder;
    }

    // host[:port], comma-separated; a host may be an IPv6 address in brackets.
    private static bool TryHosts(string authority, NpgsqlConnectionStringBuilder builder, out string? problem)
    {
        problem = null;
        if (authority.Length == 0)
        {
            return true;
        }

        var hosts = new List<string>();
        int? port = null;
        foreach (var part in authority.Split(','))
        {
            var host = part;
            string? portText = null;
            if (part.StartsWith('['))
            {
                var close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0 || (close + 1 < part.Length && part[close + 1] != ':'))
                {
                    problem = $"'{part}' is not a host in brackets like [::1]:5432";
                    return false;
                }

                host = part[1..close];
                portText = close + 1 < part.Length ? part[(close + 2)..] : null;
            }
            else if (part.LastIndexOf(':') is var colon and >= 0)
            {
                host = part[..colon];
                portText = part[(colon + 1)..];
            }

            if (!TryDecode(host, out var decoded) || decoded.Length == 0)
            {
                problem = $"'{part}' is not a host name";
                return false;
            }

            if (portText is not null)
            {
                if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
                {
                    problem = $"the port '{portText}' is not a number from 1 to 65535";
                    return false;
                }

                // Npgsql's Host takes host:port for each host but the last, whose port is Port.
                if (hosts.Count > 0 || authority.Contains(',', StringComparison.Ordinal))
                {
                    decoded = decoded.Contains(':', StringComparison.Ordinal) ? $"[{decoded}]:{number}" : $"{decoded}:{number}";
                }
                else
                {
                    port = number;
                }
            }

            hosts.Add(decoded);
        }

        builder.Host = string.Join(',', hosts);
        if (port is { } single)
        {
            builder.Port = single;
        }

        return true;
    }

    private static bool TrySet(NpgsqlConnectionStringBuilder builder, string name, string value, out string? problem)
    {
        problem = null;
        switch (name)
        {
            case "sslmode":
                SslMode? mode = value switch
                {
                    "disable" => SslMode.Disable,
                    "allow" => SslMode.Allow,
                    "prefer" => SslMode.Prefer,
                    "require" => SslMode.Require,
                    "verify-ca" => SslMode.VerifyCA,
                    "verify-full" => SslMode.VerifyFull,
                    _ => null,
                };
                if (mode is null)
                {
                    problem = $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full";
                    return false;
                }

                builder.SslMode = mode.Value;
                return true;
            case "sslrootcert":
                builder.RootCertificate = value;
                return true;
            case "sslcert":
                builder.SslCertificate = value;
                return true;
            case "sslkey":
                builder.SslKey = value;
                return true;
            case "application_name":
                builder.ApplicationName = value;
                return true;
            case "connect_timeout":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 1024)
                {
                    problem = $"connect_timeout '{value}' is not a number of seconds from 0 to 1024";
                    return false;
                }

                builder.Timeout = seconds;
                return true;
            case "target_session_attrs":
                if (value is not ("any" or "read-write" or "read-only" or "primary" or "standby" or "prefer-primary" or "prefer-standby"))
                {
                    problem = $"target_session_attrs '{value}' is not one of any, read-write, read-only, primary, standby, prefer-primary, prefer-standby";
                    return false;
                }

                builder.TargetSessionAttributes = value;
                return true;
            case "host":
                builder.Host = value;
                return true;
            case "port":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                {
                    problem = $"the port '{value}' is not a number from 1 to 65535";
                    return false;
                }

                builder.Port = port;
                return true;
            case "user":
                builder.Username = value;
                return true;
            case "password":
                builder.Password = value;
                return true;
            case "dbname":
                builder.Database = value;
                return true;
            default:
                problem = $"the parameter '{name}' is not one of {string.Join(", ", s_parameters)}";
                return false;
        }
    }

    private static bool TryDecode(string text, out string decoded)
    {
        decoded = string.Empty;
        // Uri.UnescapeDataString leaves a malformed escape as it is; a '%' left over means one was malformed.
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%' && (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2])))
            {
                return false;
            }
        }

        decoded = Uri.UnescapeDataString(text);
        return true;
    }

    // The URL with its password, in the user part (up to the last '@', as FromUrl reads it) or as a parameter, as ***.
    private static string Redact(string url)
    {
        var start = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var at = url.LastIndexOf('@');
        var colon = at < start ? -1 : url.IndexOf(':', start);
        var redacted = colon >= 0 && colon < at ? url[..(colon + 1)] + "***" + url[at..] : url;
        var password = redacted.IndexOf("password=", StringComparison.Ordinal);
        if (password > 0 && redacted[password - 1] is '?' or '&')
        {
            var valueEnd = redacted.IndexOf('&', password);
            redacted = redacted[..(password + 9)] + "***" + (valueEnd < 0 ? string.Empty : redacted[valueEnd..]);
        }

        return redacted;
    }
}
