// Presets: models of Corral's own (a base model with a system prompt and settings, or a plain alias). Those made
// here are stored and can be removed; those of the configuration file are shown, and changed in the file.
import { h, replace, field, notice, announce, ask } from '../dom.js';
import { call, json } from '../api.js';

export function render(container) {
  const list = h('div', { class: 'table-wrap' });
  const problems = h('div', { 'aria-live': 'assertive' });
  const bases = h('datalist', { id: 'preset-bases' });

  async function load() {
    try {
      const [{ presets }, fleet] = await Promise.all([json('/admin/api/presets'), json('/admin/api/backends')]);
      // The base is a catalog id: every model a backend lists, prefixes included.
      const names = [...new Set(fleet.backends.flatMap((b) => b.models))].sort();
      replace(bases, names.map((name) => h('option', { value: name })));
      replace(list, presetsTable(presets, { reload: load, problems }));
    } catch (error) {
      replace(problems, notice(error.message));
    }
  }

  replace(container, createForm({ reload: load, problems }), bases, problems, list);
  load();
}

// A JSON field of the form: empty is absent; anything else must parse.
function parsed(input, what) {
  const text = input.value.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON: ${text}`);
  }
}

function createForm({ reload, problems }) {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off', placeholder: 'support-bot' });
  const model = h('input', { name: 'model', required: true, autocomplete: 'off', list: 'preset-bases', placeholder: 'llama3.2:latest' });
  const description = h('input', { name: 'description', autocomplete: 'off' });
  const system = h('textarea', { name: 'system', rows: '3' });
  const options = h('input', { name: 'options', autocomplete: 'off', placeholder: '{"temperature": 0.2, "num_ctx": 8192}' });
  const keepAlive = h('input', { name: 'keepAlive', autocomplete: 'off', placeholder: '30m' });
  const think = h(
    'select',
    { name: 'think' },
    h('option', { value: '' }, 'as the client asks'),
    ['true', 'false', '"low"', '"medium"', '"high"', '"max"'].map((value) => h('option', { value }, JSON.parse(value).toString())),
  );
  const format = h('input', { name: 'format', autocomplete: 'off', placeholder: '"json" or a JSON schema' });
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        replace(problems);
        try {
          const body = {
            name: name.value.trim(),
            model: model.value.trim(),
            description: description.value.trim() || undefined,
            system: system.value.trim() || undefined,
            options: parsed(options, 'Options'),
            keepAlive: keepAlive.value.trim() || undefined,
            think: think.value ? JSON.parse(think.value) : undefined,
            format: parsed(format, 'Format'),
          };
          await json('/admin/api/presets', { method: 'POST', body });
          announce(`preset ${body.name} added`);
          event.target.reset();
          await reload();
        } catch (error) {
          replace(problems, notice(error.message));
        }
      },
    },
    h('h2', {}, 'Add a preset'),
    h('p', { class: 'sub' }, 'A name clients ask for, run on a base model with these settings winning over the client\'s. Only a name and a base: an alias.'),
    h('div', { class: 'row' }, field('Name', name), field('Base model', model), field('Description', description)),
    h('div', { class: 'row' }, field('System prompt', system, 'put before the client\'s own')),
    h('div', { class: 'row' }, field('Options', options, 'Ollama\'s options, as JSON'), field('Keep alive', keepAlive, 'seconds, or a duration'), field('Think', think, 'in place of the client\'s'), field('Format', format, 'as JSON')),
    h('button', { type: 'submit', class: 'primary' }, 'Add preset'),
  );
}

function settings(preset) {
  const parts = [];
  if (preset.options) parts.push(Object.entries(preset.options).map(([key, value]) => `${key} ${JSON.stringify(value)}`).join(', '));
  if (preset.keepAlive !== undefined && preset.keepAlive !== null) parts.push(`keep alive ${preset.keepAlive}`);
  if (preset.think !== undefined && preset.think !== null) parts.push(`think ${preset.think}`);
  if (preset.format !== undefined && preset.format !== null) parts.push(typeof preset.format === 'string' ? `format ${preset.format}` : 'format: a schema');
  return parts.length ? parts.join('; ') : 'an alias';
}

function presetsTable(presets, { reload, problems }) {
  if (presets.length === 0) return h('p', { class: 'sub' }, 'No presets yet.');
  const remove = async (preset) => {
    replace(problems);
    try {
      await call(`/admin/api/presets/${encodeURIComponent(preset.name)}`, { method: 'DELETE' });
      announce(`preset ${preset.name} removed`);
      await reload();
    } catch (error) {
      replace(problems, notice(error.message));
    }
  };
  return h(
    'table',
    {},
    h('caption', {}, 'Presets'),
    h('thead', {}, h('tr', {}, ['Preset', 'Base', 'System prompt', 'Settings', 'Defined in', 'Actions'].map((title) => h('th', { scope: 'col' }, title)))),
    h(
      'tbody',
      {},
      presets.map((preset) =>
        h(
          'tr',
          { class: preset.problem ? 'conflict' : '' },
          h('th', { scope: 'row' }, preset.name, preset.description ? h('div', { class: 'sub' }, preset.description) : null, preset.problem ? h('div', { class: 'error-text' }, preset.problem) : null),
          h('td', {}, h('code', {}, preset.resolvedModel ?? preset.model)),
          h('td', {}, preset.system ? h('span', { title: preset.system }, preset.system.length > 80 ? `${preset.system.slice(0, 80)}…` : preset.system) : h('span', { class: 'sub' }, '—')),
          h('td', {}, settings(preset)),
          h('td', {}, preset.origin === 'api' ? 'the admin API' : 'the configuration file'),
          h(
            'td',
            { class: 'actions' },
            preset.origin === 'api'
              ? h('button', { type: 'button', class: 'danger', 'aria-label': `Remove preset ${preset.name}`, onclick: async () => (await ask(`Remove preset ${preset.name}?`, { confirm: 'Remove', danger: true })) && remove(preset) }, 'Remove')
              : h('span', { class: 'sub' }, 'change it in the file'),
          ),
        ),
      ),
    ),
  );
}
