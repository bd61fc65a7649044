// Audit: the admin actions, newest first, filtered by action, key and time.
import { h, replace, field, notice, formatTime } from '../dom.js';
import { json } from '../api.js';

export function render(container) {
  const action = h('input', { name: 'action', autocomplete: 'off', placeholder: 'key. or backend.add' });
  const actor = h('input', { name: 'actor', autocomplete: 'off' });
  const from = h('input', { name: 'from', type: 'datetime-local' });
  const output = h('div', { 'aria-live': 'polite' });
  const load = async (event) => {
    event?.preventDefault();
    const query = new URLSearchParams({ limit: '200' });
    if (action.value.trim()) query.set('action', action.value.trim());
    if (actor.value.trim()) query.set('actor', actor.value.trim());
    if (from.value) query.set('from', new Date(from.value).toISOString());
    try {
      const { events } = await json(`/admin/api/audit?${query}`);
      replace(output, events.length === 0 ? h('p', {}, 'No admin action matches.') : auditTable(events));
    } catch (error) {
      replace(output, notice(error.message));
    }
  };
  replace(
    container,
    h('form', { class: 'card row', onsubmit: load }, field('Action', action), field('Key', actor, 'name or id'), field('From', from), h('button', { type: 'submit' }, 'Filter')),
    output,
  );
  load();
}

function auditTable(events) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, 'Admin actions'),
      h('thead', {}, h('tr', {}, ['Time', 'Action', 'Target', 'Key', 'Address', 'Outcome'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        events.map((e) =>
          h('tr', {}, h('td', {}, formatTime(e.time)), h('td', {}, h('code', {}, e.action)), h('td', {}, e.target ?? '—'), h('td', {}, e.keyName ?? e.keyId ?? '—'), h('td', {}, e.address ?? '—'), h('td', { class: e.outcome === 'ok' ? '' : 'error-text' }, e.outcome)),
        ),
      ),
    ),
  );
}
