// Talking to Corral: every call carries the key of this tab (sessionStorage: gone with the tab, never in a URL or a
// cookie), and every failure becomes an Error whose message is the server's own words, whatever the route's shape.

const KEY = 'corral.key';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

/** Called when the key is refused (401): the console signs out. */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** fetch with the key; the answer, or an ApiError with the server's message. */
export async function call(path, { method = 'GET', body, signal, headers = {} } = {}) {
  const init = { method, signal, headers: { ...headers } };
  if (session.key) init.headers.Authorization = `Bearer ${session.key}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, `Corral could not be reached (${error.message})`);
  }
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'the key was refused: sign in again');
  }
  if (!response.ok) throw new ApiError(response.status, await messageOf(response));
  return response;
}

/** The JSON of a call (null for 204). */
export async function json(path, options) {
  const response = await call(path, options);
  return response.status === 204 ? null : response.json();
}

async function messageOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    // Problem JSON (admin), OpenAI's {"error":{"message"}}, Ollama's {"error":"..."}.
    return body.detail ?? body.error?.message ?? body.error ?? body.title ?? text;
  } catch {
    return text || `${response.status} ${response.statusText}`;
  }
}

/** The lines of a streamed answer as they arrive (without their line ends). */
async function* lines(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      yield buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}

/** Reads a streamed answer line by line (NDJSON): calls onLine with each parsed line. */
export async function readLines(response, onLine) {
  for await (const line of lines(response)) {
    if (line.trim()) onLine(JSON.parse(line));
  }
}

/**
 * Follows a server-sent event stream with the key (EventSource cannot send one): calls onEvent(name, data) for each
 * event, and comes back after the connection drops, waiting as the server's "retry:" says (2 s unless told). Calls
 * onState('live' | 'reconnecting' | 'unavailable') as the connection changes. Returns a function that stops it.
 * When the route does not exist (404), calls fallback() once instead, for polling.
 */
export function follow(path, { onEvent, onState = () => {}, fallback }) {
  const stopper = new AbortController();
  let retry = 2000;
  (async () => {
    while (!stopper.signal.aborted) {
      try {
        const response = await call(path, { signal: stopper.signal, headers: { Accept: 'text/event-stream' } });
        onState('live');
        let name = 'message';
        let data = [];
        for await (const line of lines(response)) {
          if (line === '') {
            if (data.length) onEvent(name, data.join('\n'));
            name = 'message';
            data = [];
          } else if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          else if (line.startsWith('retry:')) retry = Number(line.slice(6)) || retry;
        }
      } catch (error) {
        if (stopper.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 405) && fallback) {
          onState('unavailable');
          fallback();
          return;
        }
        if (error instanceof ApiError && error.status === 401) return;
      }
      if (stopper.signal.aborted) return;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, retry));
    }
  })();
  return () => stopper.abort();
}

/** Downloads an answer (CSV export) as a file: the key goes in the header, so a plain link cannot do it. */
export async function download(path, filename) {
  const response = await call(path);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
