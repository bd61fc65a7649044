// Process setup shared by the end-to-end test files: a real Corral gateway in front of simulated Ollama
// servers, all as separate `dotnet corral.dll` processes on loopback ports.
// node --test runs each test file in its own process, so every file that imports this module has its own
// fleet and its own list of children; the exit handlers below are installed once per file.
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

export const corralDll =
  process.env.CORRAL_DLL ??
  fileURLToPath(new URL('../../src/Corral/bin/Release/net10.0/corral.dll', import.meta.url));
export const startupDeadlineMs = 60_000;
export const testTimeoutMs = 60_000;
const stopGraceMs = 5_000;

/** Every process this file started; killed by stopAll() and, as a last resort, when node exits. */
const children = [];
const dataDirs = [];

/** Asks the OS for `count` distinct free loopback ports (all held at once so they differ). */
export async function freePorts(count) {
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
export function startCorral(name, args) {
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
export async function waitUntilAnswering(entry, url) {
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

/**
 * Starts one `corral sim` per entry of `backends` (each a list of model names), waits until each answers,
 * then a `corral serve` in front of all of them with a fresh data folder and admin key, and waits for its
 * /healthz. `tokensPerSecond` is one speed for every simulator or a list of one per backend; `serveArgs` go to
 * `corral serve` as they are (e.g. ['--health-interval', '1']).
 * Returns { corralUrl, adminKey, gateway, sims, backendUrls, dataDir }.
 */
export async function startFleet(backends, { tokensPerSecond = 200, serveArgs = [] } = {}) {
  assert.ok(
    existsSync(corralDll),
    `${corralDll} not found: run 'dotnet build src/Corral -c Release' from the repository root, or set CORRAL_DLL`,
  );
  const dataDir = await mkdtemp(join(tmpdir(), 'corral-e2e-'));
  dataDirs.push(dataDir);
  const adminKey = randomBytes(16).toString('hex'); // 32 characters
  const [corralPort, ...backendPorts] = await freePorts(1 + backends.length);
  const backendUrls = backendPorts.map((port) => `http://127.0.0.1:${port}`);
  const corralUrl = `http://127.0.0.1:${corralPort}`;

  const sims = backends.map((models, i) =>
    startCorral(`sim ${i + 1}`, [
      'sim',
      '--listen', backendUrls[i],
      '--models', models.join(','),
      '--tokens-per-second', String(Array.isArray(tokensPerSecond) ? tokensPerSecond[i] : tokensPerSecond),
    ]),
  );
  await Promise.all(sims.map((sim, i) => waitUntilAnswering(sim, `${backendUrls[i]}/`)));

  const serve = [
    'serve',
    '--listen', corralUrl,
    ...backendUrls.flatMap((url) => ['--backend', url]),
    '--data', dataDir,
    '--admin-key', adminKey,
    ...serveArgs,
  ];
  const gateway = startCorral('corral serve', serve);
  await waitUntilAnswering(gateway, `${corralUrl}/healthz`);
  return { corralUrl, adminKey, gateway, sims, backendUrls, dataDir, serve };
}

/**
 * Stops the fleet's `corral serve` (SIGTERM, as a service manager would) and, once `whileDown()` has run, starts it
 * again on the same address with the same data folder and key: what a client sees when Corral restarts.
 */
export async function restartGateway(fleet, whileDown = async () => {}) {
  fleet.gateway.child.kill('SIGTERM');
  await fleet.gateway.exitedPromise;
  await whileDown();
  fleet.gateway = startCorral('corral serve (restarted)', fleet.serve);
  await waitUntilAnswering(fleet.gateway, `${fleet.corralUrl}/healthz`);
}

/** SIGTERM, then SIGKILL for whatever has not exited after a grace period (reported, not failed). */
export async function stopAll() {
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
  await Promise.all(dataDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
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

/** Creates a model preset through the admin API (POST /admin/api/presets), as an operator would. */
export async function createPreset(corralUrl, adminKey, preset) {
  const response = await fetch(`${corralUrl}/admin/api/presets`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(preset),
  });
  assert.equal(response.status, 201, `creating preset ${preset.name}: ${await response.text()}`);
}

/**
 * The usage records (GET /admin/api/usage/requests) that `match`, once there is one: records are written in the
 * background, so this asks again until one matches or the deadline passes.
 */
export async function requestsRecorded(corralUrl, adminKey, match, deadlineMs = testTimeoutMs / 2) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const response = await fetch(`${corralUrl}/admin/api/usage/requests?limit=1000`, { headers: { Authorization: `Bearer ${adminKey}` } });
    assert.equal(response.status, 200);
    const found = (await response.json()).requests.filter(match);
    if (found.length > 0) return found;
    assert.ok(Date.now() < deadline, 'no usage record matched before the deadline');
    await delay(100);
  }
}

/** Creates a key through the admin API (POST /admin/api/keys) and returns its secret. */
export async function createKey(corralUrl, adminKey, key) {
  const response = await fetch(`${corralUrl}/admin/api/keys`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(key),
  });
  const text = await response.text();
  assert.equal(response.status, 201, `creating key ${key.name}: ${text}`);
  return JSON.parse(text).key;
}
