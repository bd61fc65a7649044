// Model presets, OpenAI's Responses API and audio transcriptions through the official `ollama` and `openai` npm clients, unmodified,
// against Corral in front of two simulated Ollama servers (separate `dotnet corral.dll` processes, harness.mjs).
// The presets are made through the admin API, as an operator would: `support-bot` (a system prompt and options on
// llama3.2) and `gpt-4o-mini`, an alias for scripts written for OpenAI that hard-code that name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { Ollama } from 'ollama';
import { createKey, createPreset, requestsRecorded, startFleet, stopAll, testTimeoutMs } from './harness.mjs';

let corralUrl;
let adminKey;

function openai(apiKey = adminKey) {
  return new OpenAI({ baseURL: `${corralUrl}/v1`, apiKey, maxRetries: 0, timeout: testTimeoutMs });
}

/** The text of a response's message items (the SDK adds output_text to whole responses only, not to streamed events). */
function outputText(response) {
  return response.output
    .filter((item) => item.type === 'message')
    .flatMap((item) => item.content)
    .filter((part) => part.type === 'output_text')
    .map((part) => part.text)
    .join('');
}

function assertResponse(response, model) {
  assert.match(response.id, /^resp_/);
  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.equal(response.model, model, 'the answer names the model as it was asked for');
  assert.ok(outputText(response).trim().length > 0, `the response has text: ${JSON.stringify(response.output)}`);
  const { usage } = response;
  assert.ok(usage.input_tokens > 0, `input_tokens ${usage.input_tokens}`);
  assert.ok(usage.output_tokens > 0, `output_tokens ${usage.output_tokens}`);
  assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
}

describe('Presets and the Responses API through the ollama and openai clients', { timeout: 5 * testTimeoutMs }, () => {
  before(async () => {
    ({ corralUrl, adminKey } = await startFleet([['llama3.2'], ['llama3.2', 'qwen3']], { tokensPerSecond: 200 }));
    await createPreset(corralUrl, adminKey, {
      name: 'support-bot',
      model: 'llama3.2',
      system: 'You answer questions about Corral.',
      options: { temperature: 0.2, num_ctx: 8192 },
      description: 'help desk',
    });
    await createPreset(corralUrl, adminKey, { name: 'gpt-4o-mini', model: 'llama3.2' });
  });

  after(async () => {
    await stopAll();
  });

  test('the ollama client lists a preset with its base as parent_model and chats with it', { timeout: testTimeoutMs }, async () => {
    const ollama = new Ollama({ host: corralUrl, headers: { Authorization: `Bearer ${adminKey}` } });

    const { models } = await ollama.list();
    const preset = models.find((model) => model.name === 'support-bot');
    assert.ok(preset, `support-bot is listed: ${models.map((model) => model.name).join(', ')}`);
    assert.equal(preset.details.parent_model, 'llama3.2:latest');
    const base = models.find((model) => model.name === 'llama3.2:latest');
    assert.equal(preset.details.family, base.details.family, 'the preset has its base\'s details');

    const shown = await ollama.show({ model: 'support-bot' });
    assert.equal(shown.system, 'You answer questions about Corral.');
    assert.match(shown.parameters, /temperature\s+0\.2/);
    assert.match(shown.modelfile, /^SYSTEM You answer questions about Corral\.$/m);
    assert.match(shown.modelfile, /^# FROM support-bot$/m, 'the modelfile is the preset\'s');

    const chunks = [];
    for await (const chunk of await ollama.chat({ model: 'support-bot', messages: [{ role: 'user', content: 'What is Corral?' }], stream: true })) {
      chunks.push(chunk);
    }
    assert.ok(chunks.length >= 3, `several chunks, got ${chunks.length}`);
    assert.ok(chunks.every((chunk) => chunk.model === 'support-bot'), 'every chunk names the preset');
    assert.ok(chunks.map((chunk) => chunk.message.content).join('').trim().length > 0);
    assert.equal(chunks.at(-1).done, true);
  });

  for (const model of ['llama3.2', 'support-bot']) {
    test(`responses.create on ${model} returns a completed response with text and usage`, { timeout: testTimeoutMs }, async () => {
      const response = await openai().responses.create({
        model,
        instructions: 'Be brief.',
        input: 'Why is the sky blue?',
      });

      assertResponse(response, model);
    });

    test(`responses.create with stream: true on ${model} streams text deltas and ends with response.completed`, { timeout: testTimeoutMs }, async () => {
      const stream = await openai().responses.create({ model, input: 'Why is the sky blue?', stream: true });
      const events = [];
      for await (const event of stream) events.push(event);

      const types = events.map((event) => event.type);
      assert.equal(types[0], 'response.created');
      assert.equal(types.at(-1), 'response.completed');
      const deltas = events.filter((event) => event.type === 'response.output_text.delta').map((event) => event.delta);
      assert.ok(deltas.length >= 3, `several text deltas, got ${deltas.length}`);
      const { response } = events.at(-1);
      assertResponse(response, model);
      assert.equal(deltas.join(''), outputText(response), 'the deltas make up the final text');
      assert.equal(events[0].response.model, model, 'response.created names the model as asked too');
    });
  }

  test('a Responses stream is recorded with its preset, its base, the end user and the usage of response.completed', { timeout: testTimeoutMs }, async () => {
    const apiKey = await createKey(corralUrl, adminKey, { name: 'responses-e2e', role: 'user', assertsUsers: true });
    const stream = await openai(apiKey).responses.create({ model: 'support-bot', input: 'Count to three.', stream: true, user: 'responses-e2e-user' });
    let completed;
    for await (const event of stream) if (event.type === 'response.completed') completed = event.response;

    const [record] = await requestsRecorded(corralUrl, adminKey, (r) => r.route === '/v1/responses' && r.user === 'responses-e2e-user');
    assert.equal(record.model, 'support-bot');
    assert.equal(record.resolvedModel, 'llama3.2:latest');
    assert.equal(record.promptTokens, completed.usage.input_tokens);
    assert.equal(record.completionTokens, completed.usage.output_tokens);
  });

  test('an unknown model on /v1/responses is a NotFoundError in OpenAI\'s envelope', { timeout: testTimeoutMs }, async () => {
    await assert.rejects(openai().responses.create({ model: 'no-such-model', input: 'hi' }), (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError, `a NotFoundError, not ${error?.constructor?.name}: ${error}`);
      assert.equal(error.status, 404);
      assert.match(error.error.message, /no-such-model/);
      return true;
    });
  });

  test('audio.transcriptions.create returns the text, as JSON and as plain text, through an alias too', { timeout: testTimeoutMs }, async () => {
    const client = openai();
    const audio = () => toFile(randomBytes(64 * 1024), 'speech.wav', { type: 'audio/wav' });

    const json = await client.audio.transcriptions.create({ file: await audio(), model: 'llama3.2' });
    assert.equal(typeof json.text, 'string', `a transcription object, not ${JSON.stringify(json)}`);
    assert.ok(json.text.trim().length > 0);

    const text = await client.audio.transcriptions.create({ file: await audio(), model: 'gpt-4o-mini', response_format: 'text' });
    assert.equal(typeof text, 'string');
    assert.ok(text.trim().length > 0);
  });

  test('a script written for gpt-4o-mini works unchanged: listed, chat, completions and responses', { timeout: testTimeoutMs }, async () => {
    const client = openai();
    const listed = [];
    for await (const model of client.models.list()) listed.push(model.id);
    assert.ok(listed.includes('gpt-4o-mini'), `gpt-4o-mini is listed: ${listed.join(', ')}`);
    assert.equal((await client.models.retrieve('gpt-4o-mini')).id, 'gpt-4o-mini');

    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] });
    assert.equal(completion.model, 'gpt-4o-mini');
    assert.ok(completion.choices[0].message.content.trim().length > 0);

    const legacy = await client.completions.create({ model: 'gpt-4o-mini', prompt: 'Once upon a time', max_tokens: 16 });
    assert.equal(legacy.model, 'gpt-4o-mini');
    assert.ok(legacy.choices[0].text.length > 0);

    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Say hello.' });
    assertResponse(response, 'gpt-4o-mini');
  });
});
