// Models: every model against every backend (size, digest, and the copies whose digests differ); pull to one or
// every backend with a progress bar each; delete, copy, unload.
import { h, replace, field, notice, announce, ask, formatBytes } from '../dom.js';
import { call, json, readLines } from '../api.js';

export function render(container) {
  const matrix = h('div', { class: 'table-wrap' });
  const problems = h('div', { 'aria-live': 'assertive' });
  const progress = h('div', { class: 'pulls' });
  const backendChoice = h('select', { name: 'backend' });

  async function load() {
    try {
      const [fleet, tags] = await Promise.all([json('/admin/api/backends'), json('/api/tags')]);
      // Redrawn before every pull: the backend chosen stays chosen (while it is still in the fleet).
      const chosen = backendChoice.value;
      replace(backendChoice, h('option', { value: '' }, 'All backends'), fleet.backends.map((b) => h('option', { value: b.name }, b.name)));
      if (fleet.backends.some((b) => b.name === chosen)) backendChoice.value = chosen;
      replace(matrix, modelsTable(fleet, tags.models, { reload: load, problems }));
      return fleet;
    } catch (error) {
      replace(problems, notice(error.message));
      return null;
    }
  }

  const model = h('input', { name: 'model', required: true, autocomplete: 'off', placeholder: 'llama3.2' });
  const pullForm = h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        const name = model.value.trim();
        const fleet = await load();
        if (!name || !fleet) return;
        const targets = backendChoice.value ? [backendChoice.value] : fleet.backends.filter((b) => b.enabled).map((b) => b.name);
        replace(progress, targets.map((backend) => pullBar(name, backend)));
        await Promise.all([...progress.children].map((bar) => bar.pull()));
        await load();
      },
    },
    h('h2', {}, 'Pull a model'),
    h('div', { class: 'row' }, field('Model to pull', model), field('To', backendChoice), h('button', { type: 'submit', class: 'primary' }, 'Pull')),
    progress,
  );
  replace(container, pullForm, problems, matrix);
  load();
}

// One backend's pull: a progress bar fed by its NDJSON stream, the layers' bytes summed.
function pullBar(model, backend) {
  const bar = h('progress', { max: '100', value: '0', 'aria-label': `Pull of ${model} to ${backend}` });
  const text = h('span', { class: 'sub' }, 'starting…');
  const row = h('div', { class: 'pull', 'data-backend': backend }, h('span', { class: 'pull-name' }, backend), bar, text);
  row.pull = async () => {
    const layers = new Map();
    try {
      const response = await call(`/api/pull?backend=${encodeURIComponent(backend)}`, { method: 'POST', body: { model, stream: true } });
      await readLines(response, (line) => {
        if (line.error) throw new Error(line.error);
        if (line.digest && line.total) layers.set(line.digest, { total: line.total, completed: line.completed ?? 0 });
        const total = [...layers.values()].reduce((sum, l) => sum + l.total, 0);
        const completed = [...layers.values()].reduce((sum, l) => sum + l.completed, 0);
        if (line.status === 'success') {
          bar.value = 100;
          text.textContent = 'done: 100%';
        } else {
          if (total > 0) bar.value = Math.floor((completed / total) * 100);
          text.textContent = total > 0 ? `${line.status}: ${bar.value}% of ${formatBytes(total)}` : line.status;
        }
      });
      announce(`${model} pulled to ${backend}`);
    } catch (error) {
      text.textContent = `failed: ${error.message}`;
      text.className = 'error-text';
    }
  };
  return row;
}

function modelsTable(fleet, tags, { reload, problems }) {
  const names = [...new Set(fleet.backends.flatMap((b) => b.models))].sort();
  const conflicts = new Map(fleet.conflicts.map((c) => [c.model, c.backends]));
  const details = new Map(tags.map((t) => [t.name, t]));
  const act = async (what, request) => {
    replace(problems);
    try {
      await request();
      announce(what);
      await reload();
    } catch (error) {
      replace(problems, notice(error.message));
    }
  };
  return h(
    'table',
    {},
    h('caption', {}, 'Models on each backend'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Model'), h('th', { scope: 'col' }, 'Size'), fleet.backends.map((b) => h('th', { scope: 'col' }, b.name)), h('th', { scope: 'col' }, 'Actions'))),
    h(
      'tbody',
      {},
      names.map((name) => {
        const conflict = conflicts.get(name);
        const shown = details.get(name);
        return h(
          'tr',
          { class: conflict ? 'conflict' : '' },
          h('th', { scope: 'row' }, name, conflict ? h('div', { class: 'error-text' }, 'digests differ between backends') : null),
          h('td', { class: 'number' }, formatBytes(shown?.size)),
          fleet.backends.map((b) => {
            const holds = b.models.includes(name);
            const digest = conflict?.find((c) => c.backend === b.name)?.digest ?? (holds ? shown?.digest : null);
            return h('td', { class: holds ? 'holds' : 'absent' }, holds ? h('span', { title: digest ?? '' }, '✓ ', h('code', {}, (digest ?? '').slice(0, 12))) : h('span', { class: 'sub' }, '—'), h('span', { class: 'visually-hidden' }, holds ? ` on ${b.name}` : ` not on ${b.name}`));
          }),
          h(
            'td',
            { class: 'actions' },
            h('button', { type: 'button', 'aria-label': `Unload ${name}`, onclick: () => act(`${name} unloaded`, () => json('/admin/api/models/unload', { method: 'POST', body: { model: name } })) }, 'Unload'),
            h('button', {
              type: 'button',
              'aria-label': `Copy ${name}`,
              onclick: async () => {
                const destination = await ask(`Copy ${name} to which name?`, { confirm: 'Copy', value: `${name.split(':')[0]}-copy` });
                if (destination) act(`${name} copied to ${destination}`, () => call('/api/copy', { method: 'POST', body: { source: name, destination } }));
              },
            }, 'Copy'),
            h('button', {
              type: 'button',
              class: 'danger',
              'aria-label': `Delete ${name}`,
              onclick: async () => (await ask(`Delete ${name} from every backend that holds it?`, { confirm: 'Delete', danger: true })) && act(`${name} deleted`, () => call('/api/delete', { method: 'DELETE', body: { model: name } })),
            }, 'Delete'),
          ),
        );
      }),
    ),
  );
}
