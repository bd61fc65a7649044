// The official `@anthropic-ai/sdk` npm client, unmodified, against Corral's /v1/messages in front of two simulated
// Ollama servers, all three as separate `dotnet corral.dll` processes on loopback ports (started by harness.mjs).
// The client sends its key as Anthropic's x-api-key, as Claude Code does; Corral takes a Corral key there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { createKey, createPreset, requestsRecorded, startFleet, stopAll, testTimeoutMs } from './harness.mjs';

let corralUrl;
let adminKey;

/** A client as its documentation shows it, pointed at Corral; no retries, so a 5xx fails the test. */
function anthropic({ apiKey = adminKey } = {}) {
  return new Anthropic({ baseURL: corralUrl, apiKey, maxRetries: 0, timeout: testTimeoutMs });
}

function assertTextMessage(message, model) {
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(message.model, model, 'the answer names the model as it was asked for');
  assert.match(message.id, /^msg_/);
  const text = message.content.filter((block) => block.type === 'text').map((block) => block.text).join('');
  assert.ok(text.trim().length > 0, `the message has text: ${JSON.stringify(message.content)}`);
  assert.ok(['end_turn', 'max_tokens'].includes(message.stop_reason), `stop_reason ${message.stop_reason}`);
  assert.ok(Number.isInteger(message.usage.input_tokens) && message.usage.input_tokens > 0, `input_tokens ${message.usage.input_tokens}`);
  assert.ok(Number.isInteger(message.usage.output_tokens) && message.usage.output_tokens > 0, `output_tokens ${message.usage.output_tokens}`);
  return text;
}

describe('Corral through the @anthropic-ai/sdk client', { timeout: 5 * testTimeoutMs }, () => {
  before(async () => {
    ({ corralUrl, adminKey } = await startFleet([['llama3.2'], ['llama3.2', 'qwen3']], { tokensPerSecond: 200 }));
    await createPreset(corralUrl, adminKey, {
      name: 'support-bot',
      model: 'llama3.2',
      system: 'You answer questions about Corral.',
      options: { temperature: 0.2, num_predict: 64 },
    });
  });

  after(async () => {
    await stopAll();
  });

  for (const model of ['llama3.2', 'support-bot']) {
    test(`messages.create on ${model} returns a message with text, a stop reason and usage`, { timeout: testTimeoutMs }, async () => {
      const message = await anthropic().messages.create({
        model,
        max_tokens: 256,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      });

      assertTextMessage(message, model);
    });

    test(`messages.stream on ${model} streams text deltas and ends with the whole message and its usage`, { timeout: testTimeoutMs }, async () => {
      const stream = anthropic().messages.stream({
        model,
        max_tokens: 256,
        messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      });
      const deltas = [];
      stream.on('text', (text) => deltas.push(text));
      const message = await stream.finalMessage();

      assert.ok(deltas.length >= 3, `expected several text deltas, got ${deltas.length}`);
      const text = assertTextMessage(message, model);
      assert.equal(deltas.join(''), text, 'the deltas make up the final text');
    });
  }

  test('the usage record of a streamed message keeps the preset, its base, the end user and the tokens the client was told', { timeout: testTimeoutMs }, async () => {
    // A key allowed to name its end users, as a shared deployment's would be.
    const apiKey = await createKey(corralUrl, adminKey, { name: 'anthropic-e2e', role: 'user', assertsUsers: true });
    const stream = anthropic({ apiKey }).messages.stream({
      model: 'support-bot',
      max_tokens: 256,
      metadata: { user_id: 'anthropic-e2e-user' },
      messages: [{ role: 'user', content: 'Count to three.' }],
    });
    const message = await stream.finalMessage();

    const [record] = await requestsRecorded(corralUrl, adminKey, (r) => r.route === '/v1/messages' && r.user === 'anthropic-e2e-user');
    assert.equal(record.model, 'support-bot');
    assert.equal(record.resolvedModel, 'llama3.2:latest');
    assert.equal(record.status, 200);
    assert.equal(record.promptTokens, message.usage.input_tokens);
    assert.equal(record.completionTokens, message.usage.output_tokens);
  });

  test('a wrong x-api-key is an AuthenticationError in Anthropic\'s shape', { timeout: testTimeoutMs }, async () => {
    await assert.rejects(
      anthropic({ apiKey: 'not-a-corral-key-at-all' }).messages.create({ model: 'llama3.2', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
      (error) => {
        assert.ok(error instanceof Anthropic.AuthenticationError, `an AuthenticationError, not ${error?.constructor?.name}: ${error}`);
        assert.equal(error.status, 401);
        assert.equal(error.error?.type, 'error');
        assert.equal(error.error?.error?.type, 'authentication_error');
        return true;
      },
    );
  });

  test('an unknown model is a NotFoundError in Anthropic\'s shape, naming the model', { timeout: testTimeoutMs }, async () => {
    await assert.rejects(
      anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
      (error) => {
        assert.ok(error instanceof Anthropic.NotFoundError, `a NotFoundError, not ${error?.constructor?.name}: ${error}`);
        assert.equal(error.status, 404);
        assert.equal(error.error?.error?.type, 'not_found_error');
        assert.match(error.error.error.message, /claude-sonnet-4-5/);
        return true;
      },
    );
  });
});
