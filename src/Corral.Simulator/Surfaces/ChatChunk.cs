namespace Corral.Simulator.Surfaces;

/// <summary>One streamed /api/chat chunk: a token of content or thinking, or a tool call (api.ToolCall JSON).</summary>
internal sealed record ChatChunk(string Content, string? Thinking, byte[]? ToolCall);
