using System.Globalization;
using System.Text.Json;

namespace Corral.Doctor;

/// <summary>A mount of a container: a named volume or a host path (<see cref="Source"/>) at <see cref="Destination"/>.</summary>
internal sealed record ContainerMount(string Type, string? Name, string Source, string Destination, bool ReadWrite);

/// <summary>
/// What <c>docker container inspect</c> and <c>podman container inspect</c> say about a container, as far as the
/// doctor needs it: its state, its environment, and the settings a <c>run</c> command needs to recreate it. Both
/// tools print the same field names (Docker's API's): <c>State</c>, <c>Config.Env</c>, <c>HostConfig.PortBindings</c>,
/// <c>Mounts</c>, <c>HostConfig.RestartPolicy</c>, <c>HostConfig.NetworkMode</c>, <c>HostConfig.ExtraHosts</c>.
/// </summary>
internal sealed record ContainerInspection(
    string Name,
    string Image,
    string Status,
    bool Running,
    IReadOnlyList<string> Env,
    IReadOnlyList<string> Ports,
    IReadOnlyList<ContainerMount> Mounts,
    string? Restart,
    string Network,
    IReadOnlyList<string> ExtraHosts,
    IReadOnlyList<string> Command)
{
    /// <summary>True when the container shares the host's network, so that localhost in it is the host.</summary>
    public bool HostNetwork => Network == "host";

    /// <summary>The value of the environment variable <paramref name="key"/> in the container, or null.</summary>
    public string? Variable(string key) =>
        Env.FirstOrDefault(e => e.StartsWith(key + "=", StringComparison.Ordinal)) is { } entry ? entry[(key.Length + 1)..] : null;

    /// <summary>The first container in an inspect answer (a JSON array), or null when there is none or it is not JSON.</summary>
    public static ContainerInspection? Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() == 0)
            {
                return null;
            }

            var root = document.RootElement[0];
            var config = Child(root, "Config");
            var host = Child(root, "HostConfig");
            var state = Child(root, "State");
            var restart = Child(host, "RestartPolicy");
            var retries = Child(restart, "MaximumRetryCount") is { ValueKind: JsonValueKind.Number } r ? r.GetInt32() : 0;
            var policy = Text(restart, "Name") switch
            {
                null or "" or "no" => null,
                "on-failure" when retries > 0 => $"on-failure:{retries}",
                var name => name,
            };
            return new ContainerInspection(
                Name: (Text(root, "Name") ?? string.Empty).TrimStart('/'),
                Image: Text(config, "Image") ?? Text(root, "ImageName") ?? Text(root, "Image") ?? string.Empty,
                Status: Text(state, "Status") ?? "unknown",
                Running: Child(state, "Running").ValueKind == JsonValueKind.True,
                Env: Strings(Child(config, "Env")),
                Ports: PublishedPorts(Child(host, "PortBindings")),
                Mounts: Child(root, "Mounts") is { ValueKind: JsonValueKind.Array } mounts
                    ? mounts.EnumerateArray().Select(m => new ContainerMount(
                        Text(m, "Type") ?? "bind", Text(m, "Name"), Text(m, "Source") ?? string.Empty, Text(m, "Destination") ?? string.Empty, Child(m, "RW").ValueKind != JsonValueKind.False)).ToArray()
                    : [],
                Restart: policy,
                Network: Text(host, "NetworkMode") ?? "default",
                ExtraHosts: Strings(Child(host, "ExtraHosts")),
                Command: Strings(Child(config, "Cmd")));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The <c>Config.Env</c> and <c>Config.Cmd</c> of an image inspect answer, or empty lists.</summary>
    public static (IReadOnlyList<string> Env, IReadOnlyList<string> Command) ParseImage(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0)
            {
                var config = Child(list[0], "Config");
                return (Strings(Child(config, "Env")), Strings(Child(config, "Cmd")));
            }
        }
        catch (JsonException)
        {
            // An image that cannot be read leaves the container's own settings, all of them.
        }

        return ([], []);
    }

    // "-p" values: HostConfig.PortBindings is {"8080/tcp":[{"HostIp":"","HostPort":"3000"}]}.
    private static string[] PublishedPorts(JsonElement bindings)
    {
        if (bindings.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        var ports = new List<string>();
        foreach (var binding in bindings.EnumerateObject())
        {
            var (port, protocol) = binding.Name.Split('/') is [var p, var q] ? (p, q) : (binding.Name, "tcp");
            foreach (var hostSide in binding.Value.ValueKind == JsonValueKind.Array ? binding.Value.EnumerateArray().ToArray() : [])
            {
                var address = Text(hostSide, "HostIp") is { Length: > 0 } ip && ip != "0.0.0.0" ? (ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]:" : ip + ":") : string.Empty;
                var hostPort = Text(hostSide, "HostPort") ?? string.Empty;
                ports.Add(string.Create(CultureInfo.InvariantCulture, $"{address}{hostPort}{(hostPort.Length > 0 ? ":" : string.Empty)}{port}{(protocol == "tcp" ? string.Empty : "/" + protocol)}"));
            }
        }

        return ports.ToArray();
    }

    private static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var child) ? child : default;

    private static string? Text(JsonElement element, string name) => Child(element, name) is { ValueKind: JsonValueKind.String } text ? text.GetString() : null;

    private static string[] Strings(JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? element.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray() : [];
}
