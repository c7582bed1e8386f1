#!/usr/bin/env node
// Replays corpus requests (tests/data/corpus/*.json) as concurrent streams on ONE HTTP/2
// session (builtin `http2`), each carrying `x-llmtap-case: CASE` so h2_server.js answers with
// that case's response. Used by the HTTP/2 end-to-end tests.
//
//   node h2_client.js --port P --corpus-dir D [--repeat N] CASE...
//
// Connects to 127.0.0.1:P with SNI and :authority set to each case's host, opens every stream
// at once (CASE... repeated N times), and prints one JSON line:
//   {"pid":..., "alpn":"h2", "statuses":[...]}   (statuses in CASE order)
// Exits non-zero on any error or when ALPN did not pick h2.
'use strict';

const fs = require('fs');
const http2 = require('http2');
const path = require('path');

function parseArgs(argv) {
  const args = { port: NaN, corpusDir: '', repeat: 1, cases: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--port') args.port = Number(argv[++i]);
    else if (flag === '--corpus-dir') args.corpusDir = argv[++i];
    else if (flag === '--repeat') args.repeat = Number(argv[++i]);
    else if (flag.startsWith('--')) throw new Error(`unknown argument: ${flag}`);
    else args.cases.push(flag);
  }
  if (!(args.port > 0) || !args.corpusDir || args.cases.length === 0) {
    throw new Error('usage: h2_client.js --port P --corpus-dir D [--repeat N] CASE...');
  }
  return args;
}

function requestOf(corpusDir, name) {
  const request = JSON.parse(fs.readFileSync(path.join(corpusDir, name), 'utf8')).request;
  let body = '';
  if ('body_text' in request) body = request.body_text;
  else if ('body' in request) body = JSON.stringify(request.body);
  const headers = { ':method': request.method || 'POST', ':path': request.path,
                    ':authority': request.host, 'x-llmtap-case': name };
  for (const [key, value] of Object.entries(request.headers || {})) {
    headers[key.toLowerCase()] = value;
  }
  return { host: request.host, headers, body };
}

function send(session, request) {
  return new Promise((resolve, reject) => {
    const stream = session.request(request.headers);
    let status = 0;
    stream.on('response', (headers) => { status = headers[':status']; });
    stream.on('data', () => {});  // the body is what llmtap reads; the client only drains it
    stream.on('end', () => resolve(status));
    stream.on('error', reject);
    stream.end(request.body);
  });
}

async function run(args) {
  const requests = [];
  for (let i = 0; i < args.repeat; i++) {
    for (const name of args.cases) requests.push(requestOf(args.corpusDir, name));
  }
  const host = requests[0].host;
  const session = http2.connect(`https://${host}:${args.port}`, {
    host: '127.0.0.1', servername: host, rejectUnauthorized: false,
  });
  try {
    await new Promise((resolve, reject) => {
      session.once('connect', resolve);
      session.once('error', reject);
    });
    const statuses = await Promise.all(requests.map((r) => send(session, r)));
    return { pid: process.pid, alpn: session.alpnProtocol, statuses };
  } finally {
    session.close();
  }
}

async function main() {
  try {
    const result = await run(parseArgs(process.argv.slice(2)));
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exitCode = result.alpn === 'h2' ? 0 : 1;
  } catch (error) {
    process.stderr.write(`h2_client: ${error.message}\n`);
    process.exitCode = 1;
  }
}

main();
