// Keys: create one (allow-list, limits, expiry, end users) and see its secret once, with a copy button; change its
// limits; rotate; revoke; when each was last used.
import { h, replace, field, notice, announce, ask, formatNumber, formatTime } from '../dom.js';
import { json } from '../api.js';

export function render(container) {
  const list = h('div', { class: 'table-wrap' });
  const problems = h('div', { 'aria-live': 'assertive' });
  const secret = h('div', { 'aria-live': 'polite' });

  async function load() {
    try {
      const keys = await json('/admin/api/keys');
      replace(list, keysTable(keys, { reload: load, problems, secret }));
    } catch (error) {
      replace(problems, notice(error.message));
    }
  }

  replace(container, createForm({ reload: load, problems, secret }), secret, problems, list);
  load();
}

const numberOrNull = (input) => (input.value.trim() === '' ? null : Number(input.value));

function createForm({ reload, problems, secret }) {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const models = h('input', { name: 'models', autocomplete: 'off', placeholder: 'llama3.2, qwen3*' });
  const rpm = h('input', { name: 'requestsPerMinute', type: 'number', min: '1', inputmode: 'numeric' });
  const tpm = h('input', { name: 'tokensPerMinute', type: 'number', min: '1', inputmode: 'numeric' });
  const tpd = h('input', { name: 'tokensPerDay', type: 'number', min: '1', inputmode: 'numeric' });
  const expires = h('input', { name: 'expiresAt', type: 'date' });
  const users = h('input', { name: 'assertsUsers', type: 'checkbox' });
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        replace(problems);
        const body = {
          name: name.value.trim(),
          role: role.value,
          models: models.value.split(',').map((m) => m.trim()).filter(Boolean),
          requestsPerMinute: numberOrNull(rpm),
          tokensPerMinute: numberOrNull(tpm),
          tokensPerDay: numberOrNull(tpd),
          expiresAt: expires.value ? new Date(`${expires.value}T23:59:59Z`).toISOString() : null,
          assertsUsers: users.checked,
        };
        for (const field of Object.keys(body)) if (body[field] === null) delete body[field];
        try {
          const created = await json('/admin/api/keys', { method: 'POST', body });
          showSecret(secret, created.name, created.key);
          event.target.reset();
          await reload();
        } catch (error) {
          replace(problems, notice(error.message));
        }
      },
    },
    h('h2', {}, 'Create a key'),
    h('div', { class: 'row' }, field('Name', name), field('Role', role), field('Allowed models', models, 'comma-separated; * matches any; empty: every model')),
    h('div', { class: 'row' }, field('Requests per minute', rpm), field('Tokens per minute', tpm), field('Tokens per day', tpd), field('Expires', expires)),
    h('div', { class: 'row' }, h('div', { class: 'field checkbox' }, users, h('label', { for: (users.id = 'key-users') }, 'Names its end users (X-Corral-User)'))),
    h('button', { type: 'submit', class: 'primary' }, 'Create key'),
  );
}

function showSecret(where, name, key) {
  const value = h('input', { readonly: true, value: key, 'aria-label': `Secret of ${name}`, class: 'secret', spellcheck: 'false' });
  const copied = h('span', { 'aria-live': 'polite', class: 'sub' });
  replace(
    where,
    h(
      'div',
      { class: 'notice ok secret-box' },
      h('p', {}, `The secret of ${name}. It is shown this once: copy it now.`),
      h(
        'div',
        { class: 'row' },
        value,
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(key);
              copied.textContent = 'Copied.';
            } catch {
              value.select();
              copied.textContent = 'Selected: press Ctrl+C to copy.';
            }
          },
        }, 'Copy'),
        copied,
      ),
    ),
  );
  value.focus();
  value.select();
}

function keysTable(keys, context) {
  return h(
    'table',
    {},
    h('caption', {}, 'Keys'),
    h('thead', {}, h('tr', {}, ['Key', 'Role', 'Models', 'Limits', 'Expires', 'Last used', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, keys.map((key) => keyRow(key, context))),
  );
}

function keyRow(key, { reload, problems, secret }) {
  const act = async (what, request) => {
    replace(problems);
    try {
      const answer = await request();
      if (answer?.key) showSecret(secret, key.name, answer.key);
      announce(`${key.name}: ${what}`);
      await reload();
    } catch (error) {
      replace(problems, notice(`${key.name}: ${error.message}`));
    }
  };
  const limits = [
    key.requestsPerMinute && `${formatNumber(key.requestsPerMinute)} req/min`,
    key.tokensPerMinute && `${formatNumber(key.tokensPerMinute)} tokens/min`,
    key.tokensPerDay && `${formatNumber(key.tokensPerDay)} tokens/day`,
  ].filter(Boolean);
  return h(
    'tr',
    { class: key.active ? '' : 'inactive' },
    h('th', { scope: 'row' }, key.name, h('div', { class: 'sub' }, `${key.hint}${key.active ? '' : key.revokedAt ? ' · revoked' : ' · expired'}`)),
    h('td', {}, key.role),
    h('td', {}, key.models.length ? key.models.join(', ') : 'all'),
    h('td', {}, limits.length ? limits.join(', ') : 'none'),
    h('td', {}, key.expiresAt ? formatTime(key.expiresAt) : 'never'),
    h('td', {}, key.lastUsedAt ? formatTime(key.lastUsedAt) : 'never'),
    h(
      'td',
      { class: 'actions' },
      key.active ? [
        h('button', { type: 'button', 'aria-label': `Change the limits of ${key.name}`, onclick: (event) => editLimits(event.target.closest('tr'), key, act) }, 'Limits'),
        h('button', { type: 'button', 'aria-label': `Rotate ${key.name}`, onclick: () => act('rotated', () => json(`/admin/api/keys/${key.id}/rotate`, { method: 'POST', body: {} })) }, 'Rotate'),
        h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Revoke ${key.name}`,
          onclick: async () => (await ask(`Revoke ${key.name}? Requests with it are refused from now on.`, { confirm: 'Revoke', danger: true })) && act('revoked', () => json(`/admin/api/keys/${key.id}`, { method: 'DELETE' })),
        }, 'Revoke'),
      ] : null,
    ),
  );
}

function editLimits(row, key, act) {
  const inputs = ['requestsPerMinute', 'tokensPerMinute', 'tokensPerDay'].map((name) => [name, h('input', { name, type: 'number', min: '1', value: key[name] ?? '' })]);
  const labels = { requestsPerMinute: 'Requests per minute', tokensPerMinute: 'Tokens per minute', tokensPerDay: 'Tokens per day' };
  const editor = h(
    'tr',
    { class: 'editor' },
    h(
      'td',
      { colspan: '7' },
      h(
        'form',
        {
          class: 'row',
          onsubmit: (event) => {
            event.preventDefault();
            const body = Object.fromEntries(inputs.map(([name, input]) => [name, numberOrNull(input)]));
            act('limits changed', () => json(`/admin/api/keys/${key.id}`, { method: 'PATCH', body }));
          },
        },
        inputs.map(([name, input]) => field(labels[name], input, 'empty: no limit')),
        h('button', { type: 'submit', class: 'primary' }, 'Save limits'),
        h('button', { type: 'button', onclick: () => editor.remove() }, 'Cancel'),
      ),
    ),
  );
  row.after(editor);
  inputs[0][1].focus();
}
