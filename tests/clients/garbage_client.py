#!/usr/bin/env python3
"""Sends what a broken or hostile client might, each on its own TLS connection, to check that
the agent neither crashes nor stalls: random bytes, half a request, a 50 MB body, broken JSON,
invalid UTF-8. Prints {"pid":..., "done":[...]}.

    garbage_client.py --port P --case CASE
    garbage_client.py --port P --not-http MIB   (one TLS connection that never speaks HTTP:
                                                  256 bytes, a pause, then MIB MiB)
    garbage_client.py --port P --not-llm N --body-bytes B [--then-llm MODEL]
        (one keep-alive connection: N requests to an internal API, POST /api/orders with B
         bytes each way, then, with --then-llm, one chat completion for MODEL to a host the
         catalog does not know)
"""
import argparse
import json
import os
import random
import socket
import ssl
import time


def connect(port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=60)
    return context.wrap_socket(raw)


def request(path, body, case, extra=b""):
    head = (f"POST {path} HTTP/1.1\r\nHost: api.openai.com\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer sk-test-garbage\r\n"
            f"x-llmtap-case: {case}\r\nContent-Length: {len(body)}\r\n").encode()
    return head + extra + b"\r\n" + body


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--case")
    parser.add_argument("--not-http", type=int, default=0)
    parser.add_argument("--not-llm", type=int, default=0)
    parser.add_argument("--body-bytes", type=int, default=1024)
    parser.add_argument("--then-llm")
    args = parser.parse_args()
    if args.not_llm:
        sent = 0
        with connect(args.port) as s:
            body = b"o" * args.body_bytes
            for i in range(args.not_llm):
                head = (f"POST /api/orders HTTP/1.1\r\nHost: shop.internal\r\n"
                        f"Content-Type: application/octet-stream\r\nx-response-bytes: {args.body_bytes}\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                s.sendall(head + body)
                sent += len(head) + len(body)
                read_response(s)
                if i == 0:
                    time.sleep(0.3)  # the agent decides this is no LLM call and stops copying
            if args.then_llm:
                body = json.dumps({"model": args.then_llm,
                                   "messages": [{"role": "user", "content": "hello"}]}).encode()
                head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: models.internal\r\n"
                        f"Content-Type: application/json\r\nAuthorization: Bearer sk-quiet-test\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                s.sendall(head + body)
                sent += len(head) + len(body)
                read_response(s)
        print(json.dumps({"pid": os.getpid(), "sent": sent}))
        return
    if args.not_http:
        with connect(args.port) as s:
            s.sendall(b"\x00\x01not http at all\x02" * 16)
            time.sleep(0.5)  # the agent decides this is not HTTP and stops copying
            chunk = bytes(512 * 1024)
            for _ in range(args.not_http * 2):
                s.sendall(chunk)
        print(json.dumps({"pid": os.getpid(), "sent": 256 + args.not_http * 1024 * 1024}))
        return
    done = []
    rng = random.Random(1234)

    with connect(args.port) as s:  # random bytes, then close
        s.sendall(bytes(rng.getrandbits(8) for _ in range(65536)))
    done.append("random_bytes")

    with connect(args.port) as s:  # half a request, then close
        s.sendall(request("/v1/chat/completions", b'{"model":"gpt-4o","messages":[', args.case)[:-10])
    done.append("half_request")

    with connect(args.port) as s:  # a 50 MB body
        filler = b"x" * (50 * 1024 * 1024)
        body = b'{"model":"gpt-4o-big","messages":[{"role":"user","content":"' + filler + b'"}]}'
        s.sendall(request("/v1/chat/completions", body, args.case))
        read_response(s)
    done.append("fifty_mb_body")

    with connect(args.port) as s:  # broken JSON, then invalid UTF-8 in the model name
        s.sendall(request("/v1/chat/completions", b'{"model": "gpt-4o", "messages": [{{{', args.case))
        read_response(s)
        s.sendall(request("/v1/chat/completions", b'{"model":"gpt-\xff\xfe\xc3","messages":[]}',
                          args.case))
        read_response(s)
    done.append("broken_json_and_invalid_utf8")

    with connect(args.port) as s:  # garbage after a valid request on the same connection
        s.sendall(request("/v1/chat/completions", b'{"model":"gpt-4o"}', args.case))
        read_response(s)
        s.sendall(b"\x00\x01\x02 NOT HTTP AT ALL \r\n\r\n" * 100)
    done.append("garbage_after_request")

    print(json.dumps({"pid": os.getpid(), "done": done}))


if __name__ == "__main__":
    main()
