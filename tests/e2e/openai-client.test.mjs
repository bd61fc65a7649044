// The official `openai` npm client, unmodified, against Corral's OpenAI-compatible surface (/v1) in front of
// two simulated Ollama servers, all three as separate `dotnet corral.dll` processes on loopback ports
// (started by harness.mjs). Each test asserts what a user of that client sees; a few read the raw HTTP
// answer where the SDK hides a detail of the wire format (the SSE framing, the 401 without a key).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { startFleet, stopAll, testTimeoutMs } from './harness.mjs';

const embeddingDimensions = 384;

let corralUrl;
let adminKey;
let backendUrls;

/** A client as its documentation shows it; no retries, so a 5xx or a dropped connection fails the test. */
function openai({ baseURL = `${corralUrl}/v1`, apiKey = adminKey, fetch } = {}) {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: testTimeoutMs, ...(fetch ? { fetch } : {}) });
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'The city' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city'],
    },
  },
};

/** Collects every chunk of an SDK stream. */
async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function assertUsageAddsUp(usage) {
  assert.ok(usage, 'usage is present');
  assert.ok(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`);
  assert.ok(
    Number.isInteger(usage.completion_tokens) && usage.completion_tokens > 0,
    `completion_tokens ${usage.completion_tokens}`,
  );
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens, 'total = prompt + completion');
}

function assertUnixSecondsNearNow(created) {
  assert.ok(Number.isInteger(created), `created ${created} is an integer`);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(created - now) < 600, `created ${created} is unix seconds near ${Math.round(now)}`);
}

function norm(vector) {
  return Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
}

function assertEmbedding(vector) {
  assert.ok(Array.isArray(vector), `the embedding is an array, not ${typeof vector}`);
  assert.equal(vector.length, embeddingDimensions);
  assert.ok(vector.every((x) => typeof x === 'number' && Number.isFinite(x)), 'of finite numbers');
  assert.ok(Math.abs(norm(vector) - 1) < 1e-4, `L2 norm ${norm(vector)} is 1`);
}

function assertSameVectors(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: as many vectors`);
  for (let i = 0; i < expected.length; i++) {
    assert.equal(actual[i].length, expected[i].length, `${what}: vector ${i} has the same length`);
    const worst = Math.max(...expected[i].map((x, j) => Math.abs(x - actual[i][j])));
    assert.ok(worst <= 1e-6, `${what}: vector ${i} differs by up to ${worst}`);
  }
}

/** Little-endian float32 bytes, base64-encoded, as OpenAI's encoding_format "base64" defines them. */
function decodeBase64Floats(text) {
  const bytes = Buffer.from(text, 'base64');
  assert.equal(bytes.length % 4, 0, `${bytes.length} bytes are whole float32 values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** Asserts the SDK threw its APIError subclass `type` with `status` and OpenAI's error envelope. */
function expectApiError(type, status, { errorType, code = null, message } = {}) {
  return (error) => {
    assert.ok(error instanceof OpenAI.APIError, `an OpenAI.APIError, not ${error?.constructor?.name}: ${error}`);
    assert.ok(error instanceof type, `a ${type.name}, not ${error.constructor.name}: ${error.message}`);
    assert.equal(error.status, status);
    assert.equal(typeof error.error?.message, 'string', `the envelope has a message: ${JSON.stringify(error.error)}`);
    assert.ok(error.error.message.length > 0, 'the message is not empty');
    if (message !== undefined) assert.equal(error.error.message, message);
    if (errorType !== undefined) assert.equal(error.type, errorType);
    assert.equal(error.code, code);
    assert.equal(error.param, null);
    return true;
  };
}

describe('Corral through the openai npm client', { timeout: 10 * testTimeoutMs }, () => {
  /** @type {OpenAI} */
  let client;

  before(async () => {
    ({ corralUrl, adminKey, backendUrls } = await startFleet([
      ['llama3.2', 'all-minilm'],
      ['llama3.2', 'qwen3'],
    ], { tokensPerSecond: 200 }));
    client = openai();
  });

  after(async () => {
    await stopAll();
  });

  test('chat.completions.create returns a chat.completion with text, finish_reason stop and usage', { timeout: testTimeoutMs }, async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Why is the sky blue?' },
      ],
    });

    assert.match(completion.id, /^chatcmpl-/);
    assert.equal(completion.object, 'chat.completion');
    assert.match(completion.model, /^llama3\.2/);
    assert.equal(completion.system_fingerprint, 'fp_ollama');
    assertUnixSecondsNearNow(completion.created);
    assert.equal(completion.choices.length, 1);
    const [choice] = completion.choices;
    assert.equal(choice.index, 0);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.role, 'assistant');
    assert.equal(typeof choice.message.content, 'string');
    assert.ok(choice.message.content.trim().length > 0, 'the message has text');
    assert.equal(choice.message.tool_calls, undefined, 'no tool calls without tools');
    assertUsageAddsUp(completion.usage);
  });

  test('chat with max_tokens stops early with finish_reason length', { timeout: testTimeoutMs }, async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Tell me a long story.' }],
      max_tokens: 3,
    });

    assert.equal(completion.choices[0].finish_reason, 'length');
    assert.ok(completion.usage.completion_tokens <= 3, `completion_tokens ${completion.usage.completion_tokens} <= 3`);
    assertUsageAddsUp(completion.usage);
  });

  test('chat with a thinking model on the other backend returns content and reasoning', { timeout: testTimeoutMs }, async () => {
    const completion = await client.chat.completions.create({
      model: 'qwen3',
      messages: [{ role: 'user', content: 'What is 2 + 2?' }],
    });

    assert.match(completion.model, /^qwen3/);
    const { message, finish_reason: finishReason } = completion.choices[0];
    assert.equal(finishReason, 'stop');
    assert.ok(message.content.trim().length > 0, 'the message has text');
    assert.equal(typeof message.reasoning, 'string', `Ollama's OpenAI layer returns thinking as message.reasoning: ${JSON.stringify(message)}`);
    assert.ok(message.reasoning.length > 0, 'the reasoning is not empty');
    assertUsageAddsUp(completion.usage);
  });

  test('chat with stream: true and include_usage streams deltas, a stop chunk and a final usage chunk', { timeout: testTimeoutMs }, async () => {
    const stream = await client.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);

    assert.ok(chunks.length >= 5, `expected several chunks, got ${chunks.length}`);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.match(chunk.id, /^chatcmpl-/);
      assert.equal(chunk.id, chunks[0].id, 'one id for the whole stream');
      assert.equal(chunk.created, chunks[0].created, 'one created for the whole stream');
      assert.match(chunk.model, /^llama3\.2/);
    }
    assertUnixSecondsNearNow(chunks[0].created);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'the first delta carries the role');
    assert.ok(
      chunks.slice(1).every((chunk) => chunk.choices[0]?.delta.role === undefined),
      'only the first delta carries the role',
    );

    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, [], 'the usage chunk has no choices');
    assertUsageAddsUp(usageChunk.usage);
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage == null), 'only the last chunk has usage');

    const finishChunk = chunks.at(-2);
    assert.equal(finishChunk.choices.length, 1);
    assert.equal(finishChunk.choices[0].finish_reason, 'stop');
    assert.deepEqual(finishChunk.choices[0].delta, {}, 'the finish chunk has an empty delta');

    const contentChunks = chunks.slice(0, -2);
    assert.ok(
      contentChunks.every((chunk) => chunk.choices.length === 1 && chunk.choices[0].finish_reason == null),
      'one choice and no finish_reason before the finish chunk',
    );
    const pieces = contentChunks.map((chunk) => chunk.choices[0].delta.content).filter((text) => text);
    assert.ok(pieces.length >= 3, `expected several content deltas, got ${pieces.length}`);
    assert.ok(pieces.join('').trim().length > 0, 'the streamed message has text');
    assert.ok(usageChunk.usage.completion_tokens >= pieces.length, 'each content delta is at least one token');
  });

  test('chat with stream: true and no stream_options sends no usage chunk', { timeout: testTimeoutMs }, async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    );

    assert.equal(chunks.at(-1).choices[0]?.finish_reason, 'stop', 'the finish chunk is the last one');
    assert.ok(chunks.every((chunk) => chunk.usage == null), 'no chunk has usage');
  });

  test('the raw SSE stream is data: frames ending with data: [DONE]', { timeout: testTimeoutMs }, async () => {
    const response = await fetch(`${corralUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const text = await response.text();

    assert.ok(text.endsWith('\n\n'), 'the stream ends with a complete frame');
    const frames = text.slice(0, -2).split('\n\n');
    assert.ok(frames.every((frame) => frame.startsWith('data: ')), `every frame is "data: …":\n${text}`);
    assert.equal(frames.at(-1), 'data: [DONE]');
    const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame.slice('data: '.length)));
    assert.deepEqual(chunks.at(-1).choices, []);
    assertUsageAddsUp(chunks.at(-1).usage);
  });

  test('chat with tools returns one tool call with JSON arguments and finish_reason tool_calls', { timeout: testTimeoutMs }, async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [weatherTool],
    });

    const [choice] = completion.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.tool_calls?.length, 1, `one tool call: ${JSON.stringify(choice.message)}`);
    const [call] = choice.message.tool_calls;
    assert.match(call.id, /^call_/);
    assert.equal(call.index, 0);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof call.function.arguments, 'string', 'arguments are a JSON string, as OpenAI sends them');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'value' });
    assertUsageAddsUp(completion.usage);
  });

  test('chat with tools and stream: true sends the tool call whole in one delta, then finish_reason tool_calls', { timeout: testTimeoutMs }, async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [weatherTool],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    const withCalls = chunks.filter((chunk) => chunk.choices[0]?.delta?.tool_calls?.length);
    assert.equal(withCalls.length, 1, 'the tool call arrives in one delta');
    const calls = withCalls[0].choices[0].delta.tool_calls;
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call.index, 0);
    assert.match(call.id, /^call_/);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'value' });

    const finishes = chunks.filter((chunk) => chunk.choices[0]?.finish_reason);
    assert.equal(finishes.length, 1, 'one chunk carries finish_reason');
    assert.equal(finishes[0].choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(chunks.at(-1).choices, []);
    assertUsageAddsUp(chunks.at(-1).usage);
  });

  test('the SDK stream helper assembles a streamed tool call into finalChatCompletion()', { timeout: testTimeoutMs }, async () => {
    const runner = client.chat.completions.stream({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [weatherTool],
    });
    const completion = await runner.finalChatCompletion();

    const [choice] = completion.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), { city: 'value' });
  });

  test('completions.create (legacy) returns a text_completion', { timeout: testTimeoutMs }, async () => {
    const completion = await client.completions.create({ model: 'llama3.2', prompt: 'Say hello.' });

    assert.match(completion.id, /^cmpl-/);
    assert.equal(completion.object, 'text_completion');
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0].index, 0);
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.ok(completion.choices[0].text.trim().length > 0, 'the completion has text');
    assertUsageAddsUp(completion.usage);
  });

  describe('embeddings', () => {
    const input = ['The sky is blue.', 'Grass is green.'];
    let floats;

    before(async () => {
      floats = await client.embeddings.create({ model: 'all-minilm', input, encoding_format: 'float' });
    });

    test('encoding_format float returns one 384-dimensional unit vector per input', { timeout: testTimeoutMs }, async () => {
      assert.equal(floats.object, 'list');
      assert.match(floats.model, /^all-minilm/);
      assert.equal(floats.data.length, input.length);
      floats.data.forEach((item, i) => {
        assert.equal(item.object, 'embedding');
        assert.equal(item.index, i);
        assertEmbedding(item.embedding);
      });
      assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding, 'different texts, different vectors');
      assert.ok(floats.usage.prompt_tokens > 0, `prompt_tokens ${floats.usage.prompt_tokens}`);
      assert.equal(floats.usage.total_tokens, floats.usage.prompt_tokens);
    });

    test('without encoding_format the SDK asks for base64 and decodes the same vectors', { timeout: testTimeoutMs }, async () => {
      const sent = [];
      const recording = openai({
        fetch: (url, init) => {
          sent.push(JSON.parse(init.body));
          return fetch(url, init);
        },
      });

      const response = await recording.embeddings.create({ model: 'all-minilm', input });

      assert.equal(sent.length, 1);
      assert.equal(sent[0].encoding_format, 'base64', 'the SDK requested base64 by itself');
      response.data.forEach((item) => assertEmbedding(item.embedding));
      assertSameVectors(
        response.data.map((item) => item.embedding),
        floats.data.map((item) => item.embedding),
        'SDK-decoded base64 vs float',
      );
    });

    test('encoding_format base64 returns little-endian float32 bytes of the same vectors', { timeout: testTimeoutMs }, async () => {
      const response = await client.embeddings.create({ model: 'all-minilm', input, encoding_format: 'base64' });

      assert.equal(response.data.length, input.length);
      const decoded = response.data.map((item, i) => {
        assert.equal(item.index, i);
        assert.equal(typeof item.embedding, 'string', 'the SDK returns the base64 text as it came');
        return decodeBase64Floats(item.embedding);
      });
      assertSameVectors(decoded, floats.data.map((item) => item.embedding), 'base64 vs float');
    });

    test('a single string input returns one vector', { timeout: testTimeoutMs }, async () => {
      const response = await client.embeddings.create({ model: 'all-minilm', input: input[0], encoding_format: 'float' });

      assert.equal(response.data.length, 1);
      assertSameVectors([response.data[0].embedding], [floats.data[0].embedding], 'string vs array input');
    });
  });

  test('models.list() returns the models of both backends, each once', { timeout: testTimeoutMs }, async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);

    assert.deepEqual(models.map((model) => model.id).sort(), ['all-minilm:latest', 'llama3.2:latest', 'qwen3:latest']);
    for (const model of models) {
      assert.equal(model.object, 'model');
      assert.equal(model.owned_by, 'library');
      assert.ok(Number.isInteger(model.created) && model.created > 0, `${model.id} created ${model.created}`);
    }
  });

  test('models.retrieve() returns one model, and NotFoundError for an unknown one', { timeout: testTimeoutMs }, async () => {
    const model = await client.models.retrieve('llama3.2:latest');
    assert.equal(model.id, 'llama3.2:latest');
    assert.equal(model.object, 'model');
    assert.equal(model.owned_by, 'library');
    assert.ok(Number.isInteger(model.created) && model.created > 0, `created ${model.created}`);

    await assert.rejects(
      client.models.retrieve('no-such-model:latest'),
      expectApiError(OpenAI.NotFoundError, 404, { errorType: 'not_found_error' }),
    );
  });

  test('the same API answers under /ollama/v1', { timeout: testTimeoutMs }, async () => {
    const owui = openai({ baseURL: `${corralUrl}/ollama/v1` });

    const models = [];
    for await (const model of owui.models.list()) models.push(model.id);
    assert.deepEqual(models.sort(), ['all-minilm:latest', 'llama3.2:latest', 'qwen3:latest']);
    const completion = await owui.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(completion.object, 'chat.completion');
    assert.ok(completion.choices[0].message.content.length > 0);
  });

  test('an unknown model is a NotFoundError with status 404 and OpenAI\'s error envelope', { timeout: testTimeoutMs }, async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
      expectApiError(OpenAI.NotFoundError, 404, { errorType: 'not_found_error', message: "model 'no-such-model' not found" }),
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      expectApiError(OpenAI.NotFoundError, 404, { errorType: 'not_found_error', message: "model 'no-such-model' not found" }),
      'a stream that cannot start fails the create() call the same way',
    );
  });

  test('empty messages are a BadRequestError with status 400', { timeout: testTimeoutMs }, async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'llama3.2', messages: [] }),
      expectApiError(OpenAI.BadRequestError, 400, { errorType: 'invalid_request_error', message: "[] is too short - 'messages'" }),
    );
  });

  test('a backend failing mid-stream makes the SDK stream throw an APIError with the reason', { timeout: testTimeoutMs }, async () => {
    // qwen3 is only on the second simulator; its fault switch sends an error line after 3 lines.
    const faults = `${backendUrls[1]}/_sim/faults`;
    const setFault = async (errorAfterLines) => {
      const response = await fetch(faults, { method: 'POST', body: JSON.stringify({ errorAfterLines }) });
      assert.equal(response.status, 200, await response.text());
    };
    await setFault(3);
    try {
      const stream = await client.chat.completions.create({
        model: 'qwen3',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      const chunks = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) chunks.push(chunk);
        })(),
        (error) => {
          assert.ok(error instanceof OpenAI.APIError, `an OpenAI.APIError, not ${error?.constructor?.name}: ${error}`);
          assert.match(error.message, /error was encountered while running the model/);
          assert.equal(error.type, 'api_error');
          return true;
        },
      );
      assert.ok(chunks.length > 0, 'the chunks before the failure arrived');
      assert.ok(chunks.every((chunk) => !chunk.choices[0]?.finish_reason), 'no finish_reason before the error');
    } finally {
      await setFault(0);
    }
  });

  test('a wrong key is an AuthenticationError with status 401 and code invalid_api_key', { timeout: testTimeoutMs }, async () => {
    const wrongKey = randomBytes(16).toString('hex');
    assert.notEqual(wrongKey, adminKey);
    const intruder = openai({ apiKey: wrongKey });
    const unauthorized = expectApiError(OpenAI.AuthenticationError, 401, {
      errorType: 'invalid_request_error',
      code: 'invalid_api_key',
    });

    await assert.rejects(intruder.models.list(), unauthorized);
    await assert.rejects(
      intruder.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
      unauthorized,
    );
    await assert.rejects(intruder.embeddings.create({ model: 'all-minilm', input: 'hi' }), unauthorized);
  });

  test('a request without a key gets 401 in OpenAI\'s error envelope', { timeout: testTimeoutMs }, async () => {
    // The SDK refuses to start without an apiKey, so this one is plain HTTP.
    const response = await fetch(`${corralUrl}/v1/models`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = await response.json();
    assert.equal(typeof body.error?.message, 'string');
    assert.ok(body.error.message.length > 0);
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, null);
    assert.equal(body.error.code, 'invalid_api_key');
  });
});
