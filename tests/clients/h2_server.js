#!/usr/bin/env node
// An HTTPS server that speaks only HTTP/2 (ALPN h2, builtin `http2`) and answers each request
// with a corpus case's recorded response (tests/data/corpus), named by the request's
// `x-llmtap-case` header. Used by the HTTP/2 end-to-end tests.
//
//   node h2_server.js --cert CERT.pem --key KEY.pem --corpus-dir DIR
//
// Listens on 127.0.0.1, an ephemeral port, and prints `listening on PORT` as its first line.
// Streamed bodies (sse, ndjson) go out one event per DATA write, a few ms apart, as a real API
// sends them; content_encoding gzip/deflate/br compresses the whole body.
'use strict';

const fs = require('fs');
const http2 = require('http2');
const path = require('path');
const zlib = require('zlib');

const EVENT_DELAY_MS = 5;
// Connection-specific headers are illegal in HTTP/2; the length is the stream's business.
const SKIPPED_HEADERS = new Set(['connection', 'transfer-encoding', 'content-length',
                                 'keep-alive', 'upgrade', 'proxy-connection']);
const ENCODERS = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--cert', '--key', '--corpus-dir'].includes(flag) || value === undefined) {
      throw new Error(`bad argument: ${flag}`);
    }
    args[flag.slice(2)] = value;
  }
  for (const name of ['cert', 'key', 'corpus-dir']) {
    if (!args[name]) throw new Error(`--${name} is required`);
  }
  return args;
}

const textOf = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

// The body as a list of pieces (one per event when streamed) and its default content type,
// framed as tests/llm/api/corpus_wire.cpp frames it.
function framedBody(response) {
  if ('body' in response) return { pieces: [JSON.stringify(response.body)], type: 'application/json' };
  if ('body_text' in response) return { pieces: [response.body_text], type: 'text/plain' };
  if ('sse' in response) {
    const pieces = response.sse.map((e) => {
      let text = 'event' in e ? `event: ${e.event}\n` : '';
      if ('data' in e) {
        const data = textOf(e.data);
        text += data === '' ? 'data: \n' : data.split('\n').map((l) => `data: ${l}\n`).join('');
      }
      return text + '\n';
    });
    return { pieces, type: 'text/event-stream' };
  }
  if ('ndjson' in response) {
    return { pieces: response.ndjson.map((l) => JSON.stringify(l) + '\n'),
             type: 'application/x-ndjson' };
  }
  throw new Error('unsupported response body kind');
}

function answer(stream, corpusDir, caseName) {
  const c = JSON.parse(fs.readFileSync(path.join(corpusDir, caseName), 'utf8'));
  const response = c.response;
  let { pieces, type } = framedBody(response);
  const headers = { ':status': response.status };
  for (const [name, value] of Object.entries(response.headers || {})) {
    if (!SKIPPED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  if (!('content-type' in headers)) headers['content-type'] = type;
  const coding = response.content_encoding;
  if (coding) {
    if (!(coding in ENCODERS)) throw new Error(`unsupported content_encoding ${coding}`);
    pieces = [ENCODERS[coding](Buffer.from(pieces.join('')))];  // one compressed write
    headers['content-encoding'] = coding;
  }
  stream.respond(headers);
  const writeNext = (i) => {
    if (stream.destroyed) return;
    if (i === pieces.length) return stream.end();
    stream.write(pieces[i]);
    setTimeout(() => writeNext(i + 1), pieces.length > 1 ? EVENT_DELAY_MS : 0);
  };
  writeNext(0);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const server = http2.createSecureServer({
    cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key), allowHTTP1: false,
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});  // a client going away is not the server's failure
    stream.resume();  // the request body is not needed; drain it
    stream.on('end', () => {
      try {
        answer(stream, args['corpus-dir'], headers['x-llmtap-case'] || '');
      } catch (error) {
        process.stderr.write(`h2_server: ${error.message}\n`);
        if (!stream.headersSent) stream.respond({ ':status': 500 });
        stream.end();
      }
    });
  });
  server.on('sessionError', (error) => process.stderr.write(`h2_server: ${error.message}\n`));
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening on ${server.address().port}\n`);
  });
  // The test stops the server with SIGTERM: close at once rather than wait for idle sessions.
  process.on('SIGTERM', () => process.exit(0));
}

main();
