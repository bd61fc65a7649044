// Fleet: every backend with its state, live (the admin event stream, or polling where there is none), what it
// has loaded and until when; enable, disable, drain; add a backend once the doctor's checks have passed.
import { h, replace, redraw, field, notice, announce, formatMs, until } from '../dom.js';
import { json, follow } from '../api.js';
import { checksList } from './doctor.js';

export function render(container) {
  const state = h('p', { class: 'live', 'aria-live': 'polite' }, 'Connecting…');
  const table = h('div', { class: 'table-wrap' });
  const problems = h('div', { 'aria-live': 'assertive' });
  let poller = null;

  const draw = (fleet) => {
    redraw(table, backendsTable(fleet, act));
  };

  async function refresh() {
    try {
      draw(await json('/admin/api/backends'));
    } catch (error) {
      replace(problems, notice(error.message));
    }
  }

  async function act(backend, action) {
    replace(problems);
    try {
      await json(`/admin/api/backends/${encodeURIComponent(backend)}/${action}`, { method: 'POST' });
      announce(`${backend}: ${action} done`);
      await refresh();
    } catch (error) {
      replace(problems, notice(`${backend}: ${error.message}`));
    }
  }

  const stop = follow('/admin/api/events', {
    onEvent: (name, data) => {
      if (name === 'fleet') draw(JSON.parse(data));
    },
    onState: (now) => {
      state.textContent = now === 'live' ? 'Live: updates as the fleet changes.' : now === 'reconnecting' ? 'Connection lost: reconnecting…' : 'Updating every 2 s.';
      state.dataset.state = now;
    },
    fallback: () => {
      refresh();
      poller = setInterval(refresh, 2000);
    },
  });
  // The time until each model unloads moves on its own.
  const ticker = setInterval(() => {
    for (const item of table.querySelectorAll('[data-expires]')) item.textContent = `${item.dataset.model}, unloads ${until(item.dataset.expires)}`;
  }, 1000);

  replace(container, state, problems, table, addBackendForm(refresh));
  return () => {
    stop();
    clearInterval(ticker);
    if (poller) clearInterval(poller);
  };
}

function backendsTable(fleet, act) {
  const rows = fleet.backends.map((b) =>
    h(
      'tr',
      { 'data-backend': b.name },
      h('th', { scope: 'row' }, b.name, h('div', { class: 'sub' }, b.url)),
      h('td', {}, h('span', { class: `badge ${b.state}` }, b.state)),
      h('td', { class: 'number' }, formatMs(b.latencyMs)),
      h('td', { class: 'number' }, String(b.inFlight)),
      h('td', { class: 'number' }, String(b.queueDepth)),
      h('td', { class: b.diagnosis || b.lastError ? 'error-text' : '' }, b.diagnosis ? [b.diagnosis.finding, b.diagnosis.fix ? h('div', { class: 'sub' }, `fix: ${b.diagnosis.fix}`) : null] : (b.lastError ?? '—')),
      h('td', {}, b.loadedModels.length === 0 ? '—' : h('ul', { class: 'plain' }, b.loadedModels.map((m) => h('li', { 'data-expires': m.expiresAt, 'data-model': m.name }, `${m.name}, unloads ${until(m.expiresAt)}`)))),
      h(
        'td',
        { class: 'actions' },
        b.state === 'disabled'
          ? h('button', { type: 'button', onclick: () => act(b.name, 'enable'), 'aria-label': `Enable ${b.name}` }, 'Enable')
          : h('button', { type: 'button', onclick: () => act(b.name, 'disable'), 'aria-label': `Disable ${b.name}` }, 'Disable'),
        b.state === 'draining' || b.state === 'disabled'
          ? null
          : h('button', { type: 'button', onclick: () => act(b.name, 'drain'), 'aria-label': `Drain ${b.name}` }, 'Drain'),
        b.state === 'draining' ? h('button', { type: 'button', onclick: () => act(b.name, 'enable'), 'aria-label': `End the drain of ${b.name}` }, 'Enable') : null,
      ),
    ),
  );
  return h(
    'table',
    {},
    h('caption', {}, 'Backends', h('span', { class: 'sub' }, ` · ${fleet.queueDepth} waiting for a slot`)),
    h('thead', {}, h('tr', {}, ['Backend', 'State', 'Latency', 'In flight', 'Queue', 'Last error', 'Loaded models', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows),
  );
}

function addBackendForm(refresh) {
  const name = h('input', { name: 'name', autocomplete: 'off' });
  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'http://10.0.0.7:11434', autocomplete: 'off' });
  const key = h('input', { name: 'key', type: 'password', autocomplete: 'off' });
  const result = h('div', { 'aria-live': 'polite' });
  const add = h('button', { type: 'button', class: 'primary', disabled: true }, 'Add backend');
  let verified = null;
  const body = () => ({ url: url.value.trim(), ...(name.value.trim() ? { name: name.value.trim() } : {}), ...(key.value ? { key: key.value } : {}) });
  const reset = () => {
    verified = null;
    add.disabled = true;
  };
  for (const input of [name, url, key]) input.addEventListener('input', reset);

  add.addEventListener('click', async () => {
    try {
      const added = await json('/admin/api/backends', { method: 'POST', body: verified });
      replace(result, notice(`${added.name} added.`, 'ok'));
      name.value = url.value = key.value = '';
      reset();
      await refresh();
    } catch (error) {
      replace(result, notice(error.message));
    }
  });

  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        reset();
        replace(result, h('p', {}, 'Checking…'));
        try {
          const answer = await json('/admin/api/backends/verify', { method: 'POST', body: { url: body().url, ...(key.value ? { key: key.value } : {}) } });
          replace(
            result,
            answer.ok ? notice(`Ollama ${answer.version} with ${answer.models} models answers there.`, 'ok') : notice(answer.error),
            checksList(answer.checks),
          );
          if (answer.ok) {
            verified = body();
            add.disabled = false;
          }
        } catch (error) {
          replace(result, notice(error.message));
        }
      },
    },
    h('h2', {}, 'Add a backend'),
    h('p', { class: 'sub' }, "The doctor's checks run first; it is added only once they pass."),
    h('div', { class: 'row' }, field('URL', url), field('Name', name, 'optional: host:port by default'), field('Key', key, 'optional: for a bearer proxy in front')),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Verify'), add),
    result,
  );
}
