// Doctor: corral doctor run by Corral on its backends (GET /admin/api/doctor): each finding, and the fix where
// something is wrong.
import { h, replace, notice } from '../dom.js';
import { json } from '../api.js';

/** The checks of one URL as a list: status, name, finding, and the fix under it. */
export function checksList(checks = []) {
  return h(
    'ul',
    { class: 'checks' },
    checks.map((c) =>
      h(
        'li',
        { class: `check ${c.status}` },
        h('span', { class: `badge ${c.status}` }, c.status),
        h('span', { class: 'check-name' }, c.name),
        h('span', { class: 'finding' }, c.finding),
        c.fix ? h('div', { class: 'fix' }, h('span', { class: 'fix-label' }, 'Fix: '), h('code', {}, c.fix)) : null,
      ),
    ),
  );
}

export function render(container) {
  const output = h('div', { 'aria-live': 'polite' });
  const model = h('input', { name: 'model', autocomplete: 'off', placeholder: 'llama3.2' });
  const run = async (event) => {
    event?.preventDefault();
    replace(output, h('p', {}, 'Running the checks…'));
    try {
      const query = model.value.trim() ? `?model=${encodeURIComponent(model.value.trim())}` : '';
      replace(output, reportView(await json(`/admin/api/doctor${query}`)));
    } catch (error) {
      replace(output, notice(error.message));
    }
  };
  replace(
    container,
    h(
      'form',
      { class: 'card row', onsubmit: run },
      h('div', { class: 'field' }, h('label', { for: 'doctor-model' }, 'Model that must be there'), Object.assign(model, { id: 'doctor-model' })),
      h('button', { type: 'submit', class: 'primary' }, 'Run the checks'),
    ),
    output,
  );
}

function reportView(report) {
  const environment = report.environment;
  const where = [environment.docker && 'Docker', environment.podman && 'Podman', environment.kubernetes && 'Kubernetes', environment.wsl && 'WSL', environment.hostNetwork && "the host's network"].filter(Boolean);
  return h(
    'div',
    {},
    h('p', {}, `Corral runs ${where.length ? `in ${where.join(', ')}` : 'on the host'}${environment.defaultGateway ? `; default gateway ${environment.defaultGateway}` : ''}.`),
    report.targets.map((target) =>
      h(
        'section',
        { class: 'card target', 'aria-label': target.url },
        h('h2', {}, target.url, ' ', h('span', { class: `badge ${target.status}` }, target.status)),
        checksList(target.checks),
        target.found.length ? h('div', {}, h('h3', {}, 'Ollama answers elsewhere'), h('ul', {}, target.found.map((f) => h('li', {}, `${f.url}: Ollama ${f.version ?? '(version unknown)'}, ${f.models} models`)))) : null,
      ),
    ),
    report.recommendation ? notice(`Recommended: ${report.recommendation}`, 'ok') : null,
  );
}
