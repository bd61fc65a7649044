namespace Corral.Simulator;

/// <summary>Settings of a <see cref="SimulatedOllama"/>; read when it starts.</summary>
public sealed class SimulatorOptions
{
    /// <summary>Address to listen on, e.g. <c>http://127.0.0.1:11434</c>; port 0 picks a free port.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:11434";

    /// <summary>Local models at start, names as a user would type them (<c>x</c> means <c>x:latest</c>).</summary>
    public IList<string> Models { get; set; } = ["llama3.2"];

    /// <summary>Generation pace; 0 means as fast as possible (also removes the pacing of pull/push/create).</summary>
    public double TokensPerSecond { get; set; } = 50;

    /// <summary>Cold-load delay in milliseconds when a model is not loaded.</summary>
    public int LoadMs { get; set; }

    /// <summary>Slots per loaded model (OLLAMA_NUM_PARALLEL).</summary>
    public int Parallel { get; set; } = 1;

    /// <summary>Pending requests that may wait for a model load (OLLAMA_MAX_QUEUE).</summary>
    public int MaxQueue { get; set; } = 512;

    /// <summary>Value of <c>GET /api/version</c>.</summary>
    public string Version { get; set; } = "0.12.6";

    /// <summary>When set, requests without <c>Authorization: Bearer {key}</c> get 401 <c>{"error":"unauthorized"}</c>.</summary>
    public string? RequiredBearerKey { get; set; }

    /// <summary>Emulates Ollama bound to loopback: the Host header must be a local name or address, else 403.</summary>
    public bool LoopbackHostCheck { get; set; }

    /// <summary>keep_alive used when a request has none (OLLAMA_KEEP_ALIVE).</summary>
    public TimeSpan DefaultKeepAlive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Clock for pacing, load delays, keep-alive expiry and timestamps.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
