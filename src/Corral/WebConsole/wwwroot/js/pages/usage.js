// Usage: for an admin, requests and tokens over time by key, end user, model or backend, and the time to first
// token over time, from the usage records (GET /admin/api/usage), with the CSV export; for a user key, its own use
// today and what remains of its limits (GET /admin/api/keys/me).
import { h, replace, field, notice, formatNumber, formatTime } from '../dom.js';
import { json, download } from '../api.js';
import uPlot from '../../vendor/uPlot.esm.js';

const scheme = matchMedia('(prefers-color-scheme: dark)');

const ranges = { '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3, '30d': 30 * 24 * 3600e3 };

export function render(container, { admin }) {
  if (!admin) {
    // Not returned: the shell calls what render returns to stop the page, and ownUsage's promise is not a function.
    ownUsage(container);
    return null;
  }
  const by = h('select', { name: 'by' }, ['model', 'key', 'user', 'backend'].map((d) => h('option', { value: d }, d)));
  const range = h('select', { name: 'range' }, h('option', { value: '24h' }, 'last 24 hours'), h('option', { value: '7d' }, 'last 7 days'), h('option', { value: '30d' }, 'last 30 days'));
  const charts = h('div', { class: 'charts' });
  const totals = h('div', { class: 'table-wrap' });
  const problems = h('div', { 'aria-live': 'assertive' });
  let plots = [];

  async function load() {
    replace(problems);
    const to = new Date();
    const from = new Date(to.getTime() - ranges[range.value]);
    const bucket = range.value === '24h' ? 'hour' : 'day';
    const span = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
    // The totals and the charts come from two queries, each drawn on its own: one that fails (a Corral whose usage
    // API cannot group by time and a dimension at once) leaves the other on the page.
    const [series, grouped] = await Promise.allSettled([
      json(`/admin/api/usage?${span}&groupBy=${bucket},${by.value}`),
      json(`/admin/api/usage?${span}&groupBy=${by.value}`),
    ]);
    for (const plot of plots) plot.destroy();
    plots = [];
    replace(charts);
    if (series.status === 'fulfilled') {
      const data = seriesOf(series.value.groups, by.value);
      const seconds = [from.getTime() / 1000, to.getTime() / 1000];
      plots.push(chart(charts, 'Requests', data, 'requests', seconds));
      plots.push(chart(charts, 'Tokens', data, 'totalTokens', seconds));
      plots.push(chart(charts, 'Time to first token (ms)', data, 'ttftMsAvg', seconds));
    } else {
      replace(charts, notice(`The charts could not be drawn: ${series.reason.message}`));
    }
    if (grouped.status === 'fulfilled') replace(totals, totalsTable(grouped.value.groups, by.value));
    else replace(totals, notice(grouped.reason.message));
  }

  const exportCsv = () => {
    const to = new Date();
    const from = new Date(to.getTime() - ranges[range.value]);
    download(`/admin/api/usage/requests?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&limit=10000&format=csv`, 'corral-usage.csv').catch((error) =>
      replace(problems, notice(error.message)));
  };
  by.addEventListener('change', load);
  range.addEventListener('change', load);
  replace(
    container,
    h('div', { class: 'card row' }, field('By', by), field('Range', range), h('button', { type: 'button', onclick: exportCsv, title: 'the newest 10,000 requests of the range, as CSV' }, 'Export CSV')),
    problems,
    charts,
    totals,
  );
  load();
  const width = () => plots.forEach((p) => p.setSize({ width: Math.max(240, p.root.parentElement.clientWidth - 34), height: 240 }));
  window.addEventListener('resize', width);
  scheme.addEventListener('change', load);
  return () => {
    window.removeEventListener('resize', width);
    scheme.removeEventListener('change', load);
    for (const plot of plots) plot.destroy();
  };
}

// Rows of (bucket, dimension value) into uPlot's columns: the bucket times, then one column per value.
function seriesOf(rows, dimension) {
  const times = [...new Set(rows.map((r) => r.time))].sort();
  const names = [...new Set(rows.map((r) => label(r, dimension)))];
  const index = new Map(times.map((t, i) => [t, i]));
  return {
    names,
    column(counter) {
      const columns = names.map(() => times.map(() => null));
      for (const row of rows) columns[names.indexOf(label(row, dimension))][index.get(row.time)] = row[counter] ?? null;
      return [times.map((t) => Date.parse(t) / 1000), ...columns];
    },
  };
}

function label(row, dimension) {
  return (dimension === 'key' ? row.keyName : null) ?? row.group ?? `(no ${dimension})`;
}

const palette = ['#1f6f5c', '#0b57d0', '#b3261e', '#7d4e00', '#6f42c1', '#0a7ea4', '#a8327a', '#57606a'];

// The x axis is the range asked for (uPlot's own range around a single hour would span years).
function chart(where, title, data, counter, [from, to]) {
  const dark = scheme.matches;
  // The colours are the scheme's when drawn (a canvas keeps them): the page draws again when the scheme changes.
  const holder = h('figure', { class: 'card chart', 'aria-label': title, 'data-scheme': dark ? 'dark' : 'light' }, h('figcaption', {}, h('h2', {}, title)));
  where.append(holder);
  const columns = data.column(counter);
  const axis = { stroke: dark ? '#9da7b3' : '#57606a', grid: { stroke: dark ? '#30363d' : '#d0d7de' } };
  return new uPlot(
    {
      width: Math.max(240, holder.clientWidth - 34),
      height: 240,
      series: [{}, ...data.names.map((name, i) => ({ label: name, stroke: palette[i % palette.length], width: 2, spanGaps: true, points: { show: true } }))],
      axes: [axis, axis],
      scales: { x: { time: true, range: () => [from, to] } },
      legend: { live: false },
    },
    columns,
    holder,
  );
}

function totalsTable(groups, dimension) {
  return h(
    'table',
    {},
    h('caption', {}, `Totals by ${dimension}`),
    h('thead', {}, h('tr', {}, [dimension, 'Requests', 'Errors', 'Prompt tokens', 'Completion tokens', 'First token p50'].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      groups.map((g) =>
        h('tr', {}, h('th', { scope: 'row' }, label(g, dimension)), h('td', { class: 'number' }, formatNumber(g.requests)), h('td', { class: 'number' }, formatNumber(g.errors)), h('td', { class: 'number' }, formatNumber(g.promptTokens)), h('td', { class: 'number' }, formatNumber(g.completionTokens)), h('td', { class: 'number' }, g.ttftMsP50 === null ? '—' : `${g.ttftMsP50.toFixed(0)} ms`)),
      ),
    ),
  );
}

async function ownUsage(container) {
  try {
    const me = await json('/admin/api/keys/me');
    const today = me.usageToday;
    const remaining = me.remaining;
    replace(
      container,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, `Key ${me.key.name}: today (UTC)`),
        h('table', {}, h('caption', {}, 'Usage today'), h('tbody', {},
          [['Requests', today.requests], ['Errors', today.errors], ['Prompt tokens', today.promptTokens], ['Completion tokens', today.completionTokens], ['Total tokens', today.totalTokens]].map(([name, value]) =>
            h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'number' }, formatNumber(value)))))),
        h('h3', {}, 'What remains of its limits'),
        h('ul', {}, Object.entries(remaining).filter(([, v]) => v).map(([name, v]) => h('li', {}, `${name}: ${formatNumber(v.remaining ?? v)}${v.resetsAt ? `, whole again ${formatTime(v.resetsAt)}` : ''}`))),
      ),
    );
  } catch (error) {
    replace(container, notice(error.message));
  }
}
