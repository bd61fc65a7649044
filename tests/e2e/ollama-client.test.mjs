// The official `ollama` npm client, unmodified, against a real Corral gateway in front of two
// simulated Ollama servers, all three as separate `dotnet corral.dll` processes on loopback ports
// (started by harness.mjs). Each test asserts what a user of that client sees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Ollama } from 'ollama';
import { startFleet, stopAll, testTimeoutMs } from './harness.mjs';

const pulledModel = 'smollm2:135m';

let gateway;
let corralUrl;
let adminKey;

/** Runs `promise` expecting the client to throw ResponseError with status_code 401. */
async function assertUnauthorized(promise) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status_code, 401);
    assert.equal(typeof error.error, 'string');
    assert.ok(error.error.length > 0, 'the 401 carries an error message');
    return true;
  });
}

describe('Corral through the ollama npm client', { timeout: 5 * testTimeoutMs }, () => {
  /** @type {Ollama} */
  let ollama;

  before(async () => {
    ({ corralUrl, adminKey, gateway } = await startFleet([
      ['llama3.2', 'all-minilm'],
      ['llama3.2', 'qwen3'],
    ], { tokensPerSecond: 200 }));
    ollama = new Ollama({ host: corralUrl, headers: { Authorization: `Bearer ${adminKey}` } });
  });

  after(async () => {
    await stopAll();
  });

  test('list() returns the models of both backends, each once', { timeout: testTimeoutMs }, async () => {
    const { models } = await ollama.list();
    const names = models.map((model) => model.name).sort();
    assert.deepEqual(names, ['all-minilm:latest', 'llama3.2:latest', 'qwen3:latest']);
    for (const model of models) {
      assert.equal(typeof model.digest, 'string');
      assert.ok(model.size > 0, `${model.name} has a size`);
    }
  });

  test('chat with stream: true yields text in several chunks and ends with done and eval_count', { timeout: testTimeoutMs }, async () => {
    const stream = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    assert.ok(chunks.length >= 3, `expected several chunks, got ${chunks.length}`);
    const text = chunks.map((chunk) => chunk.message?.content ?? '').join('');
    assert.ok(text.trim().length > 0, 'the streamed message has text');
    const last = chunks.at(-1);
    assert.equal(last.done, true);
    assert.equal(typeof last.eval_count, 'number');
    assert.ok(last.eval_count > 0, `eval_count ${last.eval_count}`);
    assert.ok(
      chunks.slice(0, -1).every((chunk) => chunk.done === false),
      'only the last chunk is done',
    );
  });

  test('generate without streaming returns the response text and done', { timeout: testTimeoutMs }, async () => {
    const result = await ollama.generate({ model: 'llama3.2', prompt: 'Say hello.', stream: false });
    assert.equal(typeof result.response, 'string');
    assert.ok(result.response.trim().length > 0, 'the response has text');
    assert.equal(result.done, true);
  });

  test('embed returns one vector of numbers per input', { timeout: testTimeoutMs }, async () => {
    const inputs = ['The sky is blue.', 'Grass is green.'];
    const result = await ollama.embed({ model: 'all-minilm', input: inputs });
    assert.ok(Array.isArray(result.embeddings));
    assert.equal(result.embeddings.length, inputs.length);
    for (const vector of result.embeddings) {
      assert.ok(Array.isArray(vector) && vector.length > 0, 'each embedding is a non-empty array');
      assert.ok(vector.every((value) => typeof value === 'number' && Number.isFinite(value)), 'of numbers');
    }
    assert.equal(result.embeddings[0].length, result.embeddings[1].length);
  });

  test('pull with stream: true reports progress, ends with success and the model is then listed', { timeout: testTimeoutMs }, async () => {
    const beforePull = await ollama.list();
    assert.ok(!beforePull.models.some((model) => model.name === pulledModel), `${pulledModel} is not there yet`);

    const stream = await ollama.pull({ model: pulledModel, stream: true });
    const parts = [];
    for await (const part of stream) parts.push(part);

    assert.ok(parts.some((part) => part.status === 'pulling manifest'), 'reports pulling manifest');
    assert.ok(
      parts.some((part) => typeof part.total === 'number' && typeof part.completed === 'number' && part.total > 0),
      'reports a layer with total and completed',
    );
    for (const part of parts) {
      if (typeof part.completed === 'number') {
        assert.ok(part.completed <= part.total, `completed ${part.completed} <= total ${part.total}`);
      }
    }
    assert.equal(parts.at(-1).status, 'success');

    const { models } = await ollama.list();
    const names = models.map((model) => model.name);
    assert.equal(names.filter((name) => name === pulledModel).length, 1, `${pulledModel} listed once in ${names}`);
  });

  test('a client without a key gets 401', { timeout: testTimeoutMs }, async () => {
    const anonymous = new Ollama({ host: corralUrl });
    await assertUnauthorized(anonymous.list());
    await assertUnauthorized(anonymous.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }));
  });

  test('a client with a wrong key gets 401', { timeout: testTimeoutMs }, async () => {
    const wrongKey = randomBytes(16).toString('hex');
    assert.notEqual(wrongKey, adminKey);
    const intruder = new Ollama({ host: corralUrl, headers: { Authorization: `Bearer ${wrongKey}` } });
    await assertUnauthorized(intruder.list());
    await assertUnauthorized(intruder.generate({ model: 'llama3.2', prompt: 'hi' }));
  });

  // Last on purpose: it stops the gateway. systemd and container runtimes stop a service with SIGTERM.
  test('corral serve exits cleanly on SIGTERM', { timeout: testTimeoutMs }, async () => {
    gateway.child.kill('SIGTERM');
    const deadline = new AbortController();
    const exitedInTime = await Promise.race([
      gateway.exitedPromise.then(() => true),
      delay(15_000, false, { signal: deadline.signal }).catch(() => false),
    ]);
    deadline.abort();
    assert.ok(exitedInTime, `corral serve was still running 15 s after SIGTERM:\n${gateway.output}`);
    assert.equal(gateway.exited.code, 0, `exit code ${gateway.exited.code}, signal ${gateway.exited.signal}`);
  });
});
