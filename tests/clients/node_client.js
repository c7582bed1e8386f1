#!/usr/bin/env node
// Sends N chat-completion POSTs sequentially over ONE keep-alive HTTPS connection (builtin
// `https`). Used by end-to-end capture tests against llmtap-test-server.
//
//   node node_client.js --host 127.0.0.1 --port P --requests N --body-bytes B --response-bytes R
//
// Prints one JSON line:
//   {"pid":..., "requests":N, "ok":<200 responses>, "sent_body_bytes":..., "received_body_bytes":...}
// and exits non-zero on any error (including a non-200 response or a second connection).
'use strict';

const https = require('https');

const MODEL = 'gpt-4o-mini';
const PATH = '/v1/chat/completions';
// Same alphabet as the server's padding: a dropped or repeated chunk in a capture shifts it.
const PADDING_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function parseArgs(argv) {
  const args = { host: '127.0.0.1', port: NaN, requests: 1, bodyBytes: 128, responseBytes: 0 };
  const numeric = { '--port': 'port', '--requests': 'requests', '--body-bytes': 'bodyBytes',
                    '--response-bytes': 'responseBytes' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--host') args.host = value;
    else if (flag in numeric) args[numeric[flag]] = parseNonNegativeInt(flag, value);
    else throw new Error(`unknown argument: ${flag}`);
  }
  if (!(args.port > 0)) throw new Error('--port is required');
  if (args.bodyBytes < 1) throw new Error('--body-bytes must be >= 1');
  return args;
}

function parseNonNegativeInt(flag, value) {
  if (!/^\d+$/.test(value)) throw new Error(`${flag} needs a non-negative integer, got ${value}`);
  return Number(value);
}

// `length` characters starting with `tag`, continued by the cycling alphabet.
function padding(length, tag) {
  return (tag + PADDING_ALPHABET.repeat(Math.ceil(length / PADDING_ALPHABET.length) + 1))
      .slice(0, length);
}

// A chat request of exactly `size` bytes; plain 'x' * size when even the empty one is too big.
function requestBody(size, index) {
  const encode = (content) => Buffer.from(
      JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }] }), 'ascii');
  const minimal = encode('').length;
  if (size < minimal) return Buffer.alloc(size, 'x');
  const body = encode(padding(size - minimal, `request ${index}: `));
  if (body.length !== size) throw new Error(`internal: body is ${body.length}, wanted ${size}`);
  return body;
}

function checkCompletion(raw) {
  const completion = JSON.parse(raw.toString('utf8'));
  if (completion.object !== 'chat.completion' || !Array.isArray(completion.choices)) {
    throw new Error('response is not a chat.completion');
  }
}

function post(agent, args, body) {
  const headers = { 'Content-Type': 'application/json', 'Content-Length': body.length };
  if (args.responseBytes > 0) headers['x-response-bytes'] = String(args.responseBytes);
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: args.host, port: args.port, path: PATH, method: 'POST', headers, agent,
      rejectUnauthorized: false,
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks),
                                         socket: response.socket }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function run(args) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set();
  let ok = 0, sent = 0, received = 0;
  try {
    for (let index = 0; index < args.requests; index++) {
      const body = requestBody(args.bodyBytes, index);
      const response = await post(agent, args, body);
      sockets.add(response.socket);
      if (sockets.size > 1) throw new Error('keep-alive connection was not reused');
      sent += body.length;
      received += response.body.length;
      if (response.status === 200) {
        checkCompletion(response.body);
        ok++;
      }
    }
  } finally {
    agent.destroy();  // closes the idle keep-alive socket so the process exits promptly
  }
  return { pid: process.pid, requests: args.requests, ok, sent_body_bytes: sent,
           received_body_bytes: received };
}

async function main() {
  try {
    const args = parseArgs(process.argv.slice(2));
    const result = await run(args);
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exitCode = result.ok === args.requests ? 0 : 1;
  } catch (error) {
    process.stderr.write(`node_client: ${error.message}\n`);
    process.exitCode = 1;
  }
}

main();
