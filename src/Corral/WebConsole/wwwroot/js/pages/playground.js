// Playground: chat with any model the key may use; the answer streams in as it is generated, then says which
// backend served it, the time to its first token and its tokens per second.
import { h, replace, field, notice } from '../dom.js';
import { call, json, readLines } from '../api.js';

export function render(container) {
  const model = h('select', { name: 'model', required: true });
  const message = h('textarea', { name: 'message', rows: 4, required: true, placeholder: 'Ask something…' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const conversation = h('div', { class: 'conversation' });
  const problems = h('div', { 'aria-live': 'assertive' });
  const history = [];
  let running = null;

  json('/api/tags')
    .then(({ models }) => {
      replace(model, models.length === 0 ? h('option', { value: '' }, 'no models') : models.map((m) => h('option', { value: m.name }, m.name)));
    })
    .catch((error) => replace(problems, notice(error.message)));

  const form = h(
    'form',
    {
      class: 'card playground',
      onsubmit: async (event) => {
        event.preventDefault();
        const text = message.value.trim();
        if (!text || !model.value) return;
        replace(problems);
        history.push({ role: 'user', content: text });
        conversation.append(h('div', { class: 'turn user' }, h('span', { class: 'who' }, 'You'), h('p', {}, text)));
        const answer = h('p', { class: 'answer', 'aria-live': 'polite', 'aria-busy': 'true' });
        const facts = h('p', { class: 'facts sub' });
        conversation.append(h('div', { class: 'turn assistant' }, h('span', { class: 'who' }, model.value), answer, facts));
        message.value = '';
        send.disabled = true;
        running = new AbortController();
        const started = performance.now();
        let firstToken = null;
        let reply = '';
        try {
          const response = await call('/api/chat', { method: 'POST', body: { model: model.value, messages: history, stream: true }, signal: running.signal });
          const backend = response.headers.get('X-Corral-Backend');
          let last = null;
          await readLines(response, (line) => {
            if (line.error) throw new Error(line.error);
            const piece = line.message?.content ?? '';
            if (piece && firstToken === null) firstToken = performance.now() - started;
            reply += piece;
            answer.textContent = reply;
            last = line;
          });
          history.push({ role: 'assistant', content: reply });
          const perSecond = last?.eval_count && last?.eval_duration ? (last.eval_count / (last.eval_duration / 1e9)).toFixed(1) : null;
          facts.textContent = [
            backend ? `served by ${backend}` : null,
            firstToken !== null ? `first token after ${firstToken.toFixed(0)} ms` : null,
            perSecond ? `${perSecond} tokens/s` : null,
          ].filter(Boolean).join(' · ');
          facts.dataset.backend = backend ?? '';
        } catch (error) {
          if (error.name !== 'AbortError') replace(problems, notice(error.message));
          history.pop();
        } finally {
          answer.setAttribute('aria-busy', 'false');
          send.disabled = false;
          running = null;
          message.focus();
        }
      },
    },
    h('div', { class: 'row' }, field('Model', model)),
    field('Message', message),
    h(
      'div',
      { class: 'row' },
      send,
      h('button', { type: 'button', onclick: () => { running?.abort(); history.length = 0; replace(conversation); } }, 'New conversation'),
    ),
  );
  message.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  replace(container, form, problems, conversation);
  return () => running?.abort();
}
