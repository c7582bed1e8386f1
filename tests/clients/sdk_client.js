#!/usr/bin/env node
// Calls a local TLS server through the official SDKs (`openai`, `@anthropic-ai/sdk`), as an
// application would. The server replays the corpus case named by `--case`.
//
//   node sdk_client.js --sdk openai|anthropic --base-url URL --case CASE --model M
//                      [--api chat|responses|embeddings|messages] [--stream] [--calls N]
//
// Prints one JSON line: {"pid":..., "calls":N, "usage":[...per call as the SDK saw it...]}.
// TLS verification is off through NODE_TLS_REJECT_UNAUTHORIZED=0 set by the caller.
'use strict';

const OpenAI = require('openai');
const Anthropic = require('@anthropic-ai/sdk');

function parseArgs(argv) {
  const args = { sdk: '', baseUrl: '', case: '', model: '', api: '', stream: false, calls: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--stream') { args.stream = true; continue; }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--sdk') args.sdk = value;
    else if (flag === '--base-url') args.baseUrl = value;
    else if (flag === '--case') args.case = value;
    else if (flag === '--model') args.model = value;
    else if (flag === '--api') args.api = value;
    else if (flag === '--calls') args.calls = Number(value);
    else throw new Error(`unknown argument: ${flag}`);
  }
  return args;
}

const PROMPT = [{ role: 'user', content: 'Say hello in five words.' }];

async function openaiCall(client, args) {
  if (args.api === 'embeddings') {
    const r = await client.embeddings.create({ model: args.model, input: 'hello world' });
    return r.usage;
  }
  if (args.api === 'responses') {
    if (args.stream) {
      let usage = null;
      const stream = await client.responses.create({ model: args.model, input: 'Say hello', stream: true });
      for await (const event of stream) {
        if (event.type === 'response.completed') usage = event.response.usage;
      }
      return usage;
    }
    const r = await client.responses.create({ model: args.model, input: 'Say hello' });
    return r.usage;
  }
  if (args.stream) {
    let usage = null;
    const stream = await client.chat.completions.create({
      model: args.model, messages: PROMPT, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
    }
    return usage;
  }
  const r = await client.chat.completions.create({ model: args.model, messages: PROMPT });
  return r.usage;
}

async function anthropicCall(client, args) {
  if (args.stream) {
    const stream = await client.messages.create({
      model: args.model, max_tokens: 256, messages: PROMPT, stream: true });
    let usage = {};
    for await (const event of stream) {
      if (event.type === 'message_start') usage = { ...event.message.usage };
      if (event.type === 'message_delta') usage.output_tokens = event.usage.output_tokens;
    }
    return usage;
  }
  const r = await client.messages.create({ model: args.model, max_tokens: 256, messages: PROMPT });
  return r.usage;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const headers = { 'x-llmtap-case': args.case };
  let call;
  if (args.sdk === 'openai') {
    const client = new OpenAI.OpenAI({ apiKey: 'sk-test-not-a-real-key', baseURL: `${args.baseUrl}/v1`,
                                       defaultHeaders: headers, maxRetries: 0 });
    call = () => openaiCall(client, args);
  } else if (args.sdk === 'anthropic') {
    const client = new Anthropic.Anthropic({ apiKey: 'sk-ant-test-not-a-real-key', baseURL: args.baseUrl,
                                             defaultHeaders: headers, maxRetries: 0 });
    call = () => anthropicCall(client, args);
  } else {
    throw new Error('--sdk must be openai or anthropic');
  }
  const usage = [];
  for (let i = 0; i < args.calls; i++) usage.push(await call());
  console.log(JSON.stringify({ pid: process.pid, calls: args.calls, usage }));
}

main().catch((err) => { console.error(err && err.stack ? err.stack : String(err)); process.exit(1); });
