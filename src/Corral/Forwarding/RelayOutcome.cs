namespace Corral.Forwarding;

/// <summary>How a relayed answer ended.</summary>
internal enum RelayOutcome
{
    /// <summary>All of it reached the reader.</summary>
    Completed,

    /// <summary>The backend broke off, went silent, or ended early; the answer ended with an error (or the connection was cut).</summary>
    Failed,

    /// <summary>The client left.</summary>
    ClientLeft,
}
