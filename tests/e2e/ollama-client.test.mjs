// The official `ollama` npm client, unmodified, against a real Corral gateway in front of two
// simulated Ollama servers, all three as separate `dotnet corral.dll` processes on loopback ports.
// Each test asserts what a user of that client sees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Ollama } from 'ollama';

const corralDll =
  process.env.CORRAL_DLL ??
  fileURLToPath(new URL('../../src/Corral/bin/Release/net10.0/corral.dll', import.meta.url));
const startupDeadlineMs = 60_000;
const testTimeoutMs = 60_000;
const stopGraceMs = 5_000;
const pulledModel = 'smollm2:135m';

/** Every process this file started; killed in after() and, as a last resort, when node exits. */
const children = [];
let dataDir;
let gateway;
let corralUrl;
let adminKey;

/** Asks the OS for `count` distinct free loopback ports (all held at once so they differ). */
async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** Starts `dotnet corral.dll <args>`, keeping its output for the error message if it fails. */
function startCorral(name, args) {
  const child = spawn('dotnet', [corralDll, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { name, child, output: '', exited: null };
  const keep = (chunk) => {
    entry.output = (entry.output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  entry.exitedPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      entry.exited = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      entry.exited = { code: null, signal: null, error };
      resolve();
    });
  });
  children.push(entry);
  return entry;
}

/** Polls `url` until it answers 200, failing fast if the process exits, or after the deadline. */
async function waitUntilAnswering(entry, url) {
  const deadline = Date.now() + startupDeadlineMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (entry.exited) {
      const { code, signal, error } = entry.exited;
      throw new Error(
        `${entry.name} exited before answering ${url} (code ${code}, signal ${signal}${error ? `, ${error.message}` : ''}):\n${entry.output}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = error.cause?.code ?? error.message;
    }
    await delay(100); // poll interval, not a wait for state: the loop re-checks the condition
  }
  throw new Error(`${entry.name} did not answer ${url} within ${startupDeadlineMs} ms (${lastProblem}):\n${entry.output}`);
}

/** SIGTERM, then SIGKILL for whatever has not exited after a grace period (reported, not failed). */
async function stopAll() {
  for (const { child, exited } of children) {
    if (!exited) child.kill('SIGTERM');
  }
  const settled = Promise.all(children.map((entry) => entry.exitedPromise));
  const grace = new AbortController();
  const timedOut = await Promise.race([
    settled.then(() => false),
    delay(stopGraceMs, true, { signal: grace.signal }).catch(() => false),
  ]);
  grace.abort();
  if (timedOut) {
    for (const { name, child, exited } of children) {
      if (exited) continue;
      console.warn(`${name} did not exit within ${stopGraceMs} ms of SIGTERM; sending SIGKILL`);
      child.kill('SIGKILL');
    }
    await settled;
  }
}

// If the run is interrupted, after() never runs: still leave no server behind.
process.on('exit', () => {
  for (const { child, exited } of children) {
    if (!exited) child.kill('SIGKILL');
  }
});
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]]) {
  process.once(signal, () => process.exit(128 + number));
}

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
    assert.ok(
      existsSync(corralDll),
      `${corralDll} not found: run 'dotnet build src/Corral -c Release' from the repository root, or set CORRAL_DLL`,
    );
    dataDir = await mkdtemp(join(tmpdir(), 'corral-e2e-'));
    adminKey = randomBytes(16).toString('hex'); // 32 characters
    const [corralPort, firstPort, secondPort] = await freePorts(3);
    const firstUrl = `http://127.0.0.1:${firstPort}`;
    const secondUrl = `http://127.0.0.1:${secondPort}`;
    corralUrl = `http://127.0.0.1:${corralPort}`;

    const sims = [
      startCorral('sim 1', ['sim', '--listen', firstUrl, '--models', 'llama3.2,all-minilm', '--tokens-per-second', '200']),
      startCorral('sim 2', ['sim', '--listen', secondUrl, '--models', 'llama3.2,qwen3', '--tokens-per-second', '200']),
    ];
    await Promise.all([waitUntilAnswering(sims[0], `${firstUrl}/`), waitUntilAnswering(sims[1], `${secondUrl}/`)]);

    gateway = startCorral('corral serve', [
      'serve',
      '--listen', corralUrl,
      '--backend', firstUrl,
      '--backend', secondUrl,
      '--data', dataDir,
      '--admin-key', adminKey,
    ]);
    await waitUntilAnswering(gateway, `${corralUrl}/healthz`);

    ollama = new Ollama({ host: corralUrl, headers: { Authorization: `Bearer ${adminKey}` } });
  });

  after(async () => {
    await stopAll();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
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
