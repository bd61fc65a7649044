// Building the page from data without ever parsing it as HTML: every text a backend, a client or a user wrote
// (model names, errors, key names) goes in as a text node, so nothing they hold can become markup or script.

/** An element: h('button', { type: 'button', onclick }, 'Send'). Attributes starting with "on" become listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name in element && typeof value !== 'string') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what an element holds. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A labelled form field: the label's text names the control (for screen readers and tests). */
let fieldCount = 0;
export function field(label, control, hint) {
  const id = control.id || `field-${++fieldCount}`;
  control.id = id;
  const hintElement = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintElement);
}

/** An error or notice box that screen readers announce. */
export function notice(text, kind = 'error') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Says something to screen readers without showing it. */
export function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

export function formatNumber(value) {
  return value === null || value === undefined ? '—' : Number(value).toLocaleString('en');
}

export function formatMs(value) {
  return value === null || value === undefined ? '—' : `${Number(value).toFixed(1)} ms`;
}

export function formatBytes(bytes) {
  if (!bytes && bytes !== 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 10 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** "in 4 min", "in 35 s", "now" from an ISO time. */
export function until(iso, now = Date.now()) {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (!Number.isFinite(seconds)) return '—';
  if (seconds <= 0) return 'now';
  if (seconds < 90) return `in ${seconds} s`;
  if (seconds < 5400) return `in ${Math.round(seconds / 60)} min`;
  return `in ${Math.round(seconds / 3600)} h`;
}

export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * Redraws a part of the page that live data replaces, keeping the keyboard focus where it was: the element that
 * had it is found again in the new content by its aria-label, name or id.
 */
export function redraw(element, ...children) {
  const active = document.activeElement;
  const key = active && element.contains(active) ? (active.getAttribute('aria-label') ?? active.getAttribute('name') ?? active.id) : null;
  replace(element, ...children);
  if (!key) return;
  const again = [...element.querySelectorAll('[aria-label],[name],[id]')].find(
    (candidate) => (candidate.getAttribute('aria-label') ?? candidate.getAttribute('name') ?? candidate.id) === key,
  );
  again?.focus();
}

/**
 * Asks in a modal <dialog> of the page rather than the browser's confirm() and prompt(), which block the page,
 * cannot be styled or read by every screen reader in the same way, and look like a browser warning. Resolves to
 * true (or the text typed, with `value`) when confirmed, false (or null) when cancelled, Escape included.
 */
export function ask(question, { confirm = 'OK', danger = false, value } = {}) {
  return new Promise((resolve) => {
    const input = value === undefined ? null : h('input', { name: 'answer', autocomplete: 'off', value, 'aria-label': question });
    const cancel = h('button', { type: 'button', onclick: () => dialog.close('') }, 'Cancel');
    const ok = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, confirm);
    const dialog = h(
      'dialog',
      { class: 'ask', 'aria-label': question },
      h('form', { method: 'dialog' }, h('p', {}, question), input, h('div', { class: 'row end' }, cancel, ok)),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      const confirmed = dialog.returnValue === 'ok';
      resolve(input ? (confirmed && input.value.trim() ? input.value.trim() : null) : confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    (input ?? ok).focus();
  });
}
