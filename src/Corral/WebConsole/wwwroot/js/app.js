// The console's shell: sign in with a key, the navigation (what the key's role may see), and the hash routes
// (#/fleet ...), each page a module that draws into <main> and returns a function that stops what it started.
import { h, replace, field, notice, announce } from './dom.js';
import { session, json, whenUnauthorized, ApiError } from './api.js';

const pages = [
  { path: 'fleet', name: 'Fleet', admin: true, load: () => import('./pages/fleet.js') },
  { path: 'models', name: 'Models', admin: true, load: () => import('./pages/models.js') },
  { path: 'presets', name: 'Presets', admin: true, load: () => import('./pages/presets.js') },
  { path: 'keys', name: 'Keys', admin: true, load: () => import('./pages/keys.js') },
  { path: 'usage', name: 'Usage', admin: false, load: () => import('./pages/usage.js') },
  { path: 'doctor', name: 'Doctor', admin: true, load: () => import('./pages/doctor.js') },
  { path: 'audit', name: 'Audit', admin: true, load: () => import('./pages/audit.js') },
  { path: 'playground', name: 'Playground', admin: false, load: () => import('./pages/playground.js') },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let me = null;
let stopPage = null;
/** Counts the pages shown: a page whose module arrives after the user has gone on to another is not drawn. */
let shown = 0;

whenUnauthorized(() => signOut('The key was refused. Sign in again.'));
document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => show());

start();

async function start() {
  if (!session.key) return showSignIn();
  try {
    me = (await json('/admin/api/keys/me')).key;
  } catch (error) {
    return showSignIn(error instanceof ApiError && error.status !== 401 ? error.message : undefined);
  }
  drawNavigation();
  show();
}

function isAdmin() {
  return me?.role === 'admin';
}

function visible() {
  return pages.filter((page) => isAdmin() || !page.admin);
}

function drawNavigation() {
  replace(nav, h('ul', {}, visible().map((page) => h('li', {}, h('a', { href: `#/${page.path}`, 'data-page': page.path }, page.name)))));
  nav.hidden = false;
  who.hidden = false;
  document.getElementById('who-name').textContent = `${me.name} (${me.role})`;
}

async function show() {
  if (!me) return;
  const turn = ++shown;
  stopPage?.();
  stopPage = null;
  const wanted = location.hash.replace(/^#\/?/, '').split('?')[0];
  const page = pages.find((p) => p.path === wanted) ?? visible()[0];
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.page === page.path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${page.name} · Corral`;
  if (page.admin && !isAdmin()) {
    replace(main, h('h1', {}, page.name), notice('This page needs an admin key. A user key sees the Playground and its own Usage.'));
    return;
  }
  replace(main, h('h1', {}, page.name), h('p', { class: 'loading' }, 'Loading…'));
  const module = await page.load();
  if (turn !== shown) return;
  const container = h('div', { class: 'page' });
  replace(main, h('h1', {}, page.name), container);
  stopPage = module.render(container, { me, admin: isAdmin() }) ?? null;
  announce(`${page.name} page`);
}

function showSignIn(problem) {
  nav.hidden = true;
  who.hidden = true;
  document.title = 'Sign in · Corral';
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', required: true, spellcheck: 'false' });
  const message = h('div', { 'aria-live': 'polite' }, problem ? notice(problem) : null);
  const form = h(
    'form',
    {
      class: 'sign-in',
      onsubmit: async (event) => {
        event.preventDefault();
        session.key = input.value.trim();
        try {
          me = (await json('/admin/api/keys/me')).key;
        } catch (error) {
          session.key = null;
          replace(message, notice(error.status === 401 ? 'That key was refused: check it and try again.' : error.message));
          input.focus();
          return;
        }
        drawNavigation();
        // A new hash shows its page (hashchange); drawing it here as well would load it twice.
        if (!location.hash) location.hash = `#/${visible()[0].path}`;
        else show();
      },
    },
    h('h1', {}, 'Sign in to Corral'),
    h('p', {}, 'Use a Corral key: an admin key sees every page; a user key the Playground and its own Usage. The key stays in this tab only.'),
    field('API key', input),
    message,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  replace(main, form);
  input.focus();
}

function signOut(reason) {
  shown++;
  stopPage?.();
  stopPage = null;
  session.key = null;
  me = null;
  showSignIn(reason);
}
