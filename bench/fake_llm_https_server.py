#!/usr/bin/env python3
"""A local HTTPS server for the benchmark and the soak: answers POST /v1/... with a small
OpenAI chat completion (with usage) and any other POST with a small order confirmation,
reading the whole request body first. Prints its port (and writes it to --port-file).

    fake_llm_https_server.py CERT KEY [--port-file FILE] [--threaded]
"""
import argparse
import http.server
import json
import os
import signal
import socketserver
import ssl

CHAT = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000,
                   "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {
                       "role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}},
                  separators=(",", ":")).encode()
ORDER = json.dumps({"order_id": "ord-bench-1", "status": "accepted"}, separators=(",", ":")).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        while n > 0:
            chunk = self.rfile.read(min(n, 1 << 20))
            if not chunk:
                return
            n -= len(chunk)
        body = CHAT if self.path.startswith("/v1/") else ORDER
        # One write: status line, headers and body (clients recompute its size from this form).
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)


class Server(socketserver.TCPServer):
    allow_reuse_address = True


class ThreadedServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cert")
    p.add_argument("key")
    p.add_argument("--port-file")
    p.add_argument("--threaded", action="store_true")
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv = (ThreadedServer if a.threaded else Server)(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)
    signal.signal(signal.SIGTERM, lambda *x: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        srv.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
