// The web console (/ui/) in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against
// a real Corral gateway in front of two simulated Ollama servers (harness.mjs). Each test does what a person at the
// console does (labels, buttons, links by their names) and asserts what they would see. One fleet and one browser
// serve the whole file; each test has its own browser context, so its own tab and its own signed-in key.
// Screenshots land in tests/e2e/artifacts/console/ (not committed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePorts, restartGateway, startCorral, startFleet, stopAll, testTimeoutMs, waitUntilAnswering } from './harness.mjs';

const chromiumPath = process.env.CORRAL_E2E_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(chromiumPath) ? false : `${chromiumPath} not found: install Debian's chromium package (.ci/run does)`;
const artifacts = fileURLToPath(new URL('./artifacts/console/', import.meta.url));
const axePath = fileURLToPath(new URL('./node_modules/axe-core/axe.min.js', import.meta.url));

/** How long a user would reasonably wait for something on the page to change. */
const uiTimeoutMs = 15_000;
const adminPages = ['Fleet', 'Models', 'Presets', 'Keys', 'Usage', 'Doctor', 'Audit', 'Playground'];
// The simulator answers 12 tokens; at 10 tokens/s an answer takes over a second, long enough to see it grow.
const slowModel = 'tinyllama';

let fleet;
let browser;
/** The backends' names as Corral shows them, in the order of fleet.backendUrls. */
let backendNames;
let axeSource;

/** What each page shows once its data has arrived. */
const ready = {
  Fleet: (page) => page.getByRole('table', { name: /^Backends/ }),
  Models: (page) => page.getByRole('table', { name: 'Models on each backend' }),
  Presets: (page) => page.getByRole('table', { name: 'Presets' }).or(page.getByText('No presets yet.')),
  Keys: (page) => page.getByRole('table', { name: 'Keys', exact: true }),
  Usage: (page) => page.getByRole('table', { name: /^(Totals by model|Usage today)$/ }),
  Doctor: (page) => page.getByRole('button', { name: 'Run the checks' }),
  Audit: (page) => page.getByRole('table', { name: 'Admin actions' }).or(page.getByText('No admin action matches.')),
  Playground: (page) => page.getByLabel('Model', { exact: true }).locator('option').first(),
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A fresh tab in its own context (own sessionStorage, so own key), which records every console error and warning
 * and every uncaught exception as page.problems; closed after `use`.
 */
async function withPage(options, use) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      const { url, lineNumber } = message.location();
      page.problems.push(`${message.type()} on ${page.url()}: ${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (error) => page.problems.push(`uncaught on ${page.url()}: ${error.stack ?? error.message}`));
  try {
    return await use(page, context);
  } finally {
    await context.close();
  }
}

async function signIn(page, key) {
  await page.goto(`${fleet.corralUrl}/ui/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: uiTimeoutMs });
}

/** Follows the navigation link `name` and waits until the page shows its data. */
async function open(page, name) {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ timeout: uiTimeoutMs });
  await ready[name](page).waitFor({ state: 'attached', timeout: uiTimeoutMs });
  if (name === 'Doctor') await runDoctor(page);
}

async function runDoctor(page) {
  await page.getByRole('button', { name: 'Run the checks' }).click();
  await page.getByRole('region', { name: fleet.backendUrls[1] }).waitFor({ timeout: uiTimeoutMs });
}

async function navigationNames(page) {
  return page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
}

/** The state badge in a backend's row of the Fleet page's Backends table. */
function backendState(page, backend, state) {
  return page
    .getByRole('table', { name: /^Backends/ })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${escape(backend)}`) }) })
    .getByText(state, { exact: true });
}

/** Stops the first simulator (once): the fleet then has one backend down for the rest of the file. */
async function stopFirstBackend() {
  const sim = fleet.sims[0];
  if (!sim.exited) sim.child.kill('SIGTERM');
  await sim.exitedPromise;
}

async function runAxe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`).join('\n')}`);
  });
}

/** Elements wider than the viewport that no scroll container holds (a page that scrolls sideways on a phone). */
async function sidewaysOverflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // Clipped by a scroll container: one of its containing blocks (not merely an ancestor: a scroller does not clip
    // an absolutely positioned descendant whose containing block is outside it) hides what overflows.
    const held = (element) => {
      let block = element;
      for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
        const position = getComputedStyle(block).position;
        if (position === 'fixed') return false;
        if (position === 'absolute' && getComputedStyle(parent).position === 'static') continue;
        block = parent;
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(parent).overflowX)) return true;
      }
      return false;
    };
    const offenders = [];
    for (const element of document.body.querySelectorAll('*')) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.right <= width + 1 || held(element)) continue;
      offenders.push(`<${element.tagName.toLowerCase()}${element.className ? ` class="${element.className}"` : ''}> ends at ${Math.round(box.right)} px: "${element.textContent.trim().slice(0, 40)}"`);
    }
    return { width, scrollWidth: document.documentElement.scrollWidth, offenders };
  });
}

describe('the web console in Chromium', { timeout: 12 * testTimeoutMs }, () => {
  before(async () => {
    if (skip) return;
    fleet = await startFleet(
      [
        ['llama3.2', 'qwen3'],
        ['llama3.2', slowModel],
      ],
      { tokensPerSecond: [200, 10], serveArgs: ['--health-interval', '1'] },
    );
    const answer = await fetch(`${fleet.corralUrl}/admin/api/backends`, { headers: { Authorization: `Bearer ${fleet.adminKey}` } });
    const { backends } = await answer.json();
    backendNames = fleet.backendUrls.map((url) => backends.find((b) => b.url.replace(/\/$/, '') === url).name);
    axeSource = await readFile(axePath, 'utf8');
    await mkdir(artifacts, { recursive: true });
    // A root CI container has no user namespaces for Chromium's sandbox, and a small /dev/shm.
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });

  after(async () => {
    await browser?.close();
    await stopAll();
  });

  test('a browser at Corral\'s root goes to the console; the admin key signs in and sees every page', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      await page.goto(fleet.corralUrl);
      assert.equal(new URL(page.url()).pathname, '/ui/');
      await page.getByLabel('API key').fill(fleet.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: uiTimeoutMs });
      assert.deepEqual(await navigationNames(page), adminPages);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
    }));

  test('Fleet: both backends healthy, and a stopped one turns unhealthy without a reload', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      await signIn(page, fleet.adminKey);
      await open(page, 'Fleet');
      for (const name of backendNames) await backendState(page, name, 'healthy').waitFor({ timeout: uiTimeoutMs });
      await page.evaluate(() => {
        window.sameDocument = true;
      });

      await stopFirstBackend();
      await backendState(page, backendNames[0], 'unhealthy').waitFor({ timeout: 10_000 });
      assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page changed without being reloaded');
      assert.equal(await backendState(page, backendNames[1], 'healthy').count(), 1, 'the other backend is still healthy');
    }));

  test('Fleet: the live updates come back after the connection drops, still without a reload', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      const [, other] = backendNames;
      await signIn(page, fleet.adminKey);
      await open(page, 'Fleet');
      const live = page.getByText('Live: updates as the fleet changes.');
      await live.waitFor({ timeout: uiTimeoutMs });
      await page.evaluate(() => {
        window.sameDocument = true;
      });

      // Corral restarts: the stream ends, the page says so and reconnects when Corral is back.
      await restartGateway(fleet, () => page.getByText('Connection lost: reconnecting…').waitFor({ timeout: uiTimeoutMs }));
      await live.waitFor({ timeout: uiTimeoutMs });
      const disabled = await fetch(`${fleet.corralUrl}/admin/api/backends/${encodeURIComponent(other)}/disable`, { method: 'POST', headers: { Authorization: `Bearer ${fleet.adminKey}` } });
      assert.equal(disabled.status, 200);
      try {
        await backendState(page, other, 'disabled').waitFor({ timeout: uiTimeoutMs });
        assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page changed without being reloaded');
      } finally {
        await fetch(`${fleet.corralUrl}/admin/api/backends/${encodeURIComponent(other)}/enable`, { method: 'POST', headers: { Authorization: `Bearer ${fleet.adminKey}` } });
      }
    }));

  test('Models: a pull to one backend shows its progress bar reaching 100%', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      const model = 'smollm2:135m';
      const [, target] = backendNames;
      await signIn(page, fleet.adminKey);
      await open(page, 'Models');
      await page.getByLabel('Model to pull').fill(model);
      await page.getByLabel('To', { exact: true }).selectOption(target);
      await page.getByRole('button', { name: 'Pull', exact: true }).click();

      const bar = page.getByRole('progressbar', { name: `Pull of ${model} to ${target}` });
      await page.getByText('done: 100%').waitFor({ timeout: uiTimeoutMs });
      assert.equal(await bar.evaluate((element) => element.value), 100);
      assert.equal(await page.getByRole('progressbar').count(), 1, 'only the chosen backend pulls');

      const row = page.getByRole('table', { name: 'Models on each backend' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: model }) });
      await row.getByText(`on ${target}`, { exact: true }).waitFor({ timeout: uiTimeoutMs });
      assert.equal(await row.getByText(`not on ${backendNames[0]}`, { exact: true }).count(), 1, `${model} is not on the other backend`);
    }));

  test('Keys and Playground: a new user key sees only Playground and Usage, and its answer streams in', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fleet.corralUrl });
      await signIn(page, fleet.adminKey);
      await open(page, 'Keys');
      await page.getByLabel('Name', { exact: true }).fill('playground user');
      await page.getByLabel('Role').selectOption('user');
      await page.getByLabel('Allowed models').fill(slowModel);
      await page.getByRole('button', { name: 'Create key' }).click();

      const secretField = page.getByRole('textbox', { name: 'Secret of playground user' });
      await secretField.waitFor({ timeout: uiTimeoutMs });
      const secret = await secretField.inputValue();
      assert.match(secret, /^\S{20,}$/);
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page.getByText('Copied.').waitFor({ timeout: uiTimeoutMs });
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
      const keyRow = page.getByRole('table', { name: 'Keys', exact: true }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^playground user/ }) });
      await keyRow.getByRole('cell', { name: slowModel, exact: true }).waitFor({ timeout: uiTimeoutMs });
      assert.ok(!(await page.getByRole('table', { name: 'Keys', exact: true }).textContent()).includes(secret), 'the table does not show the secret');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').fill(secret);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: uiTimeoutMs });
      assert.deepEqual((await navigationNames(page)).sort(), ['Playground', 'Usage']);

      await open(page, 'Playground');
      const modelChoice = page.getByLabel('Model', { exact: true });
      const offered = await modelChoice.locator('option').allTextContents();
      assert.ok(offered.length > 0 && offered.every((name) => name.startsWith(slowModel)), `the key's models only: ${offered.join(', ')}`);
      await modelChoice.selectOption({ label: offered[0] });
      await page.getByLabel('Message').fill('Why is the sky blue?');
      await page.getByRole('button', { name: 'Send' }).click();

      // Part of the answer is on the page while it is still being written...
      const partial = await (
        await page.waitForFunction(
          () => {
            const answer = document.querySelector('.turn.assistant .answer');
            return answer?.getAttribute('aria-busy') === 'true' && answer.textContent.length > 0 ? answer.textContent : false;
          },
          null,
          { polling: 'raf', timeout: uiTimeoutMs },
        )
      ).jsonValue();
      // ...then all of it, with the facts of the request.
      const facts = page.getByText(/^served by /);
      await facts.waitFor({ timeout: uiTimeoutMs });
      const final = await page.locator('.turn.assistant .answer').textContent();
      assert.ok(final.length > partial.length && final.startsWith(partial), `the answer grew from "${partial}" to "${final}"`);
      const said = await facts.textContent();
      assert.match(said, new RegExp(`served by ${escape(backendNames[1])}`));
      assert.match(said, /first token after \d+ ms/);
      assert.match(said, /\d+(\.\d+)? tokens\/s/);

      await page.evaluate(() => {
        location.hash = '#/fleet';
      });
      await page.getByRole('heading', { level: 1, name: 'Fleet' }).waitFor({ timeout: uiTimeoutMs });
      await page.getByText('This page needs an admin key').waitFor({ timeout: uiTimeoutMs });
      assert.equal(await page.getByRole('table', { name: /^Backends/ }).count(), 0);
      const shown = await page.locator('main').textContent();
      for (const url of fleet.backendUrls) assert.ok(!shown.includes(url), `a user key is not shown ${url}`);
    }));

  test('what a client wrote is shown as text, never run: a key named like markup', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      const name = '<img src=x onerror="window.pwned=1">bold<script>window.pwned=2</script>';
      const created = await fetch(`${fleet.corralUrl}/admin/api/keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${fleet.adminKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, role: 'user' }),
      });
      assert.equal(created.status, 201);
      await signIn(page, fleet.adminKey);
      await open(page, 'Keys');

      await page.getByRole('rowheader', { name }).first().waitFor({ timeout: uiTimeoutMs });
      assert.equal(await page.locator('main img, main script').count(), 0, 'no element was made from the name');
      assert.equal(await page.evaluate(() => window.pwned), undefined, 'nothing in the name ran');
    }));

  test('Keys: change a key\'s limits, rotate it (its new secret shown once), revoke it', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      const created = await fetch(`${fleet.corralUrl}/admin/api/keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${fleet.adminKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'limits test', role: 'user' }),
      });
      const { key: oldSecret } = await created.json();
      await signIn(page, fleet.adminKey);
      await open(page, 'Keys');
      const row = () => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^limits test/ }) });

      await page.getByRole('button', { name: 'Change the limits of limits test' }).click();
      await page.getByLabel('Requests per minute').last().fill('30');
      await page.getByRole('button', { name: 'Save limits' }).click();
      await row().getByText('30 req/min').waitFor({ timeout: uiTimeoutMs });

      await page.getByRole('button', { name: 'Rotate limits test' }).click();
      const secret = page.getByRole('textbox', { name: 'Secret of limits test' });
      await secret.waitFor({ timeout: uiTimeoutMs });
      const newSecret = await secret.inputValue();
      assert.notEqual(newSecret, oldSecret);
      const me = await fetch(`${fleet.corralUrl}/admin/api/keys/me`, { headers: { Authorization: `Bearer ${newSecret}` } });
      assert.equal(me.status, 200, 'the rotated secret works');

      await page.getByRole('button', { name: 'Revoke limits test' }).click();
      // The page asks first, in a dialog of its own; Cancel keeps the key, Revoke revokes it.
      const ask = page.getByRole('dialog', { name: /^Revoke limits test\?/ });
      await ask.getByRole('button', { name: 'Cancel' }).click();
      await ask.waitFor({ state: 'detached' });
      assert.equal((await fetch(`${fleet.corralUrl}/admin/api/keys/me`, { headers: { Authorization: `Bearer ${newSecret}` } })).status, 200, 'cancelled: the key still works');
      await page.getByRole('button', { name: 'Revoke limits test' }).click();
      await ask.getByRole('button', { name: 'Revoke' }).click();
      await row().getByText('revoked', { exact: false }).waitFor({ timeout: uiTimeoutMs });
      const refused = await fetch(`${fleet.corralUrl}/admin/api/keys/me`, { headers: { Authorization: `Bearer ${newSecret}` } });
      assert.equal(refused.status, 401, 'a revoked key is refused');
    }));

  test('Models: copy a model, then delete the copy; unload one', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      await signIn(page, fleet.adminKey);
      await open(page, 'Models');
      const table = page.getByRole('table', { name: 'Models on each backend' });
      const original = table.getByRole('rowheader').filter({ hasText: slowModel }).first();
      const name = (await original.textContent()).trim();

      await page.getByRole('button', { name: `Copy ${name}`, exact: true }).click();
      const copyTo = page.getByRole('dialog', { name: `Copy ${name} to which name?` });
      await copyTo.getByRole('textbox').fill('e2e-copy');
      await copyTo.getByRole('textbox').press('Enter');
      await table.getByRole('rowheader', { name: /^e2e-copy/ }).waitFor({ timeout: uiTimeoutMs });
      const copy = (await table.getByRole('rowheader', { name: /^e2e-copy/ }).textContent()).trim();
      await page.getByRole('button', { name: `Delete ${copy}`, exact: true }).click();
      await page.getByRole('dialog', { name: /^Delete e2e-copy/ }).getByRole('button', { name: 'Delete' }).click();
      await table.getByRole('rowheader', { name: /^e2e-copy/ }).waitFor({ state: 'detached', timeout: uiTimeoutMs });

      await page.getByRole('button', { name: `Unload ${name}`, exact: true }).click();
      assert.equal(await page.getByRole('alert').count(), 0, 'the unload was answered without an error');
    }));

  test('Presets: one added through the form is listed with its base and settings, answers in the Playground, and is removed', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      await signIn(page, fleet.adminKey);
      await open(page, 'Presets');
      await page.getByLabel('Name', { exact: true }).fill('console-bot');
      await page.getByLabel('Base model').fill('llama3.2:latest');
      await page.getByLabel('Description').fill('made in the console');
      await page.getByLabel('System prompt').fill('You answer questions about Corral.');
      await page.getByLabel('Options').fill('{"temperature": 0.2, "num_ctx": 8192}');
      await page.getByLabel('Think').selectOption({ label: 'false' });
      await page.getByRole('button', { name: 'Add preset' }).click();

      const table = page.getByRole('table', { name: 'Presets' });
      const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^console-bot/ }) });
      await row.waitFor({ timeout: uiTimeoutMs });
      await row.getByRole('cell', { name: 'llama3.2:latest', exact: true }).waitFor();
      assert.match(await row.textContent(), /temperature 0\.2, num_ctx 8192; think false/);
      assert.match(await row.textContent(), /the admin API/);

      // A JSON field that does not parse is refused in words, before anything is sent.
      await page.getByLabel('Name', { exact: true }).fill('broken-bot');
      await page.getByLabel('Base model').fill('llama3.2:latest');
      await page.getByLabel('Options').fill('{temperature: 0.2}');
      await page.getByRole('button', { name: 'Add preset' }).click();
      await page.getByRole('alert').filter({ hasText: 'Options is not JSON' }).waitFor({ timeout: uiTimeoutMs });

      await open(page, 'Playground');
      const modelChoice = page.getByLabel('Model', { exact: true });
      await modelChoice.locator('option', { hasText: 'console-bot' }).waitFor({ state: 'attached', timeout: uiTimeoutMs });
      await modelChoice.selectOption({ label: 'console-bot' });
      await page.getByLabel('Message').fill('What is Corral?');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByText(/^served by /).waitFor({ timeout: uiTimeoutMs });
      assert.ok((await page.locator('.turn.assistant .answer').textContent()).trim().length > 0, 'the preset answered');

      await open(page, 'Presets');
      await page.getByRole('button', { name: 'Remove preset console-bot', exact: true }).click();
      await page.getByRole('dialog', { name: 'Remove preset console-bot?' }).getByRole('button', { name: 'Remove' }).click();
      await page.getByRole('rowheader', { name: /^console-bot/ }).waitFor({ state: 'detached', timeout: uiTimeoutMs });
    }));

  test('Fleet: drain and enable a backend; a URL that fails the checks cannot be added, one that passes is', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      const [, other] = backendNames;
      await signIn(page, fleet.adminKey);
      await open(page, 'Fleet');
      await page.getByRole('button', { name: `Drain ${other}` }).click();
      await backendState(page, other, 'draining').waitFor({ timeout: uiTimeoutMs });
      await page.getByRole('button', { name: `End the drain of ${other}` }).click();
      await backendState(page, other, 'healthy').waitFor({ timeout: uiTimeoutMs });

      await stopFirstBackend();
      await page.getByLabel('URL', { exact: true }).fill(fleet.backendUrls[0]);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByText('refused the connection', { exact: false }).first().waitFor({ timeout: uiTimeoutMs });
      assert.equal(await page.getByRole('button', { name: 'Add backend' }).isDisabled(), true, 'a failing URL cannot be added');

      const [port] = await freePorts(1);
      const url = `http://127.0.0.1:${port}`;
      const third = startCorral('sim 3', ['sim', '--listen', url, '--models', 'phi3']);
      await waitUntilAnswering(third, `${url}/`);
      await page.getByLabel('URL', { exact: true }).fill(url);
      await page.getByLabel('Name', { exact: true }).fill('gpu3');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByText(/answers there/).waitFor({ timeout: uiTimeoutMs });
      await page.getByRole('button', { name: 'Add backend' }).click();
      await backendState(page, 'gpu3', 'healthy').waitFor({ timeout: uiTimeoutMs });
    }));

  test('Usage: a request shows in the totals by model', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      const chat = await fetch(`${fleet.corralUrl}/api/chat`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${fleet.adminKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }], stream: false, options: { num_predict: 2 } }),
      });
      const chatText = await chat.text();
      assert.equal(chat.status, 200, chatText);

      await signIn(page, fleet.adminKey);
      await open(page, 'Usage');
      const row = page.getByRole('table', { name: 'Totals by model' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^llama3\.2/ }) });
      await row.waitFor({ timeout: uiTimeoutMs });
      const requests = Number((await row.getByRole('cell').first().textContent()).replace(/,/g, ''));
      assert.ok(requests >= 1, `llama3.2 has ${requests} requests`);

      // The charts take the colours of the scheme in force, and are drawn again when it changes under them.
      const chart = page.getByRole('figure', { name: 'Requests' });
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForFunction(() => document.querySelector('figure.chart')?.dataset.scheme === 'light', null, { timeout: uiTimeoutMs });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForFunction(() => document.querySelector('figure.chart')?.dataset.scheme === 'dark', null, { timeout: uiTimeoutMs });
      assert.equal(await chart.count(), 1, 'drawn again, not twice');

      // The CSV export is the admin API's, downloaded with the key.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
      assert.equal(download.suggestedFilename(), 'corral-usage.csv');
      const csv = await readFile(await download.path(), 'utf8');
      assert.match(csv.split('\n')[0], /model/);
      assert.ok(csv.split('\n').some((line) => line.includes('llama3.2') && line.includes('/api/chat')), 'the chat is a row of the export');
    }));

  test('Audit: the admin actions, filtered by action', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      await signIn(page, fleet.adminKey);
      await open(page, 'Audit');
      const table = page.getByRole('table', { name: 'Admin actions' });
      await table.waitFor({ timeout: uiTimeoutMs });
      await page.getByLabel('Action').fill('key.');
      // The unfiltered table holds key actions too: the filtered one is read once it has replaced it.
      const unfiltered = await table.elementHandle();
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForFunction((old) => !old.isConnected, unfiltered, { timeout: uiTimeoutMs });
      await table.getByRole('cell', { name: 'key.create', exact: true }).first().waitFor({ timeout: uiTimeoutMs });
      const actions = await table.locator('tbody tr td:nth-child(2)').allTextContents();
      assert.ok(actions.length > 0, 'key actions are listed');
      assert.ok(actions.every((action) => action.startsWith('key.')), `only key actions: ${actions.join(', ')}`);
    }));

  test('Doctor: with a backend stopped, the checks show its URL failing and a fix naming OLLAMA_HOST', { skip, timeout: testTimeoutMs }, () =>
    withPage({}, async (page) => {
      await stopFirstBackend();
      await signIn(page, fleet.adminKey);
      await open(page, 'Doctor');
      const stopped = page.getByRole('region', { name: fleet.backendUrls[0] });
      await stopped.getByRole('heading', { name: `${fleet.backendUrls[0]} fail` }).waitFor({ timeout: uiTimeoutMs });
      const fix = stopped.getByText(/OLLAMA_HOST/);
      assert.ok((await fix.count()) >= 1, 'a fix names OLLAMA_HOST');
      await fix.first().waitFor();
    }));

  test('accessibility: no serious or critical axe violation on any page, light or dark; the sign-in works from the keyboard', { skip, timeout: 2 * testTimeoutMs }, () =>
    // bypassCSP: axe goes in as an inline script, which the console's own policy (rightly) refuses.
    withPage({ bypassCSP: true }, async (page) => {
      const found = [];
      for (const colorScheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme });
        await page.goto(`${fleet.corralUrl}/ui/`);
        await page.getByLabel('API key').waitFor();
        for (const violation of await runAxe(page)) found.push(`sign-in, ${colorScheme}: ${violation}`);
        await page.getByLabel('API key').fill(fleet.adminKey);
        await page.getByRole('button', { name: 'Sign in' }).click();
        for (const name of adminPages) {
          await open(page, name);
          for (const violation of await runAxe(page)) found.push(`${name}, ${colorScheme}: ${violation}`);
        }
        await page.getByRole('button', { name: 'Sign out' }).click();
      }
      assert.deepEqual(found, [], `axe found:\n${found.join('\n')}`);

      // From the top of the page, Tab reaches the key field, then the button, each with a visible focus ring.
      await page.goto(`${fleet.corralUrl}/ui/`);
      await page.getByLabel('API key').waitFor();
      // A click on the header's empty corner puts the keyboard's starting point at the top, as a fresh tab has it.
      await page.mouse.click(1, 1);
      const visited = [];
      for (let i = 0; i < 8 && !visited.some((v) => v.name === 'Sign in'); i++) {
        await page.keyboard.press('Tab');
        visited.push(
          await page.evaluate(() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            const box = element.getBoundingClientRect();
            return {
              name: element.labels?.[0]?.textContent ?? element.textContent.trim(),
              ring: element.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
              onScreen: box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight,
            };
          }),
        );
      }
      const names = visited.map((v) => v.name);
      assert.ok(names.includes('API key') && names.indexOf('API key') < names.indexOf('Sign in'), `Tab went through: ${names.join(' → ')}`);
      for (const stop of visited) assert.ok(stop.ring && stop.onScreen, `focus on "${stop.name}" is visible`);
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.type(fleet.adminKey);
      await page.keyboard.press('Enter');
      await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: uiTimeoutMs });
    }));

  test('no error or warning in the browser console on any page, as admin and as a user', { skip, timeout: testTimeoutMs }, async () => {
    const created = await fetch(`${fleet.corralUrl}/admin/api/keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${fleet.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'console tour', role: 'user', models: [slowModel] }),
    });
    const createdText = await created.text();
    assert.equal(created.status, 201, createdText);
    const userKey = JSON.parse(createdText).key;
    const problems = [];
    for (const [key, names] of [[fleet.adminKey, adminPages], [userKey, ['Usage', 'Playground']]]) {
      await withPage({}, async (page) => {
        await signIn(page, key);
        for (const name of names) await open(page, name);
        problems.push(...page.problems);
      });
    }
    assert.deepEqual(problems, [], `the browser console said:\n${problems.join('\n')}`);
  });

  test('screenshots of every page, light and dark; at phone width no page scrolls sideways', { skip, timeout: 2 * testTimeoutMs }, async () => {
    const pagePath = (name) => name.toLowerCase();
    for (const colorScheme of ['light', 'dark']) {
      await withPage({ viewport: { width: 1280, height: 800 } }, async (page) => {
        await page.emulateMedia({ colorScheme });
        await page.goto(`${fleet.corralUrl}/ui/`);
        await page.getByLabel('API key').waitFor();
        await page.screenshot({ path: `${artifacts}sign-in-${colorScheme}.png`, fullPage: true });
        await signIn(page, fleet.adminKey);
        for (const name of adminPages) {
          await open(page, name);
          await page.screenshot({ path: `${artifacts}${pagePath(name)}-${colorScheme}.png`, fullPage: true });
        }
      });
    }

    const sideways = [];
    await withPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }, async (page) => {
      await page.goto(`${fleet.corralUrl}/ui/`);
      await page.getByLabel('API key').waitFor();
      await signIn(page, fleet.adminKey);
      for (const name of adminPages) {
        await open(page, name);
        await page.screenshot({ path: `${artifacts}${pagePath(name)}-phone.png`, fullPage: true });
        const { width, scrollWidth, offenders } = await sidewaysOverflow(page);
        if (scrollWidth > width || offenders.length > 0) sideways.push(`${name}: the page is ${scrollWidth} px wide in ${width} px\n    ${offenders.slice(0, 8).join('\n    ')}`);
      }
    });
    assert.deepEqual(sideways, [], `pages that scroll sideways at 390 px:\n${sideways.join('\n')}`);
  });
});
