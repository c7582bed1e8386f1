#!/usr/bin/env python3
"""Sends N chat-completion POSTs over ONE keep-alive HTTPS connection (http.client + ssl).

Used by end-to-end capture tests against llmtap-test-server. Prints one JSON line:
  {"pid":..., "requests":N, "ok":<200 responses>, "sent_body_bytes":..., "received_body_bytes":...}
and exits non-zero on any error (including a non-200 response).

With --import-delay-ms D the process sleeps D ms BEFORE importing ssl/http.client, so libssl is
loaded (dlopen'ed via the _ssl extension) well after process start.

With --pause-ms P the connection is made first, then each request waits P ms before it is sent;
the JSON line then also carries "request_times_ns": CLOCK_MONOTONIC just before each request.
"""

import argparse
import json
import os
import sys
import time

# Deliberately no ssl/http.client/socket imports here: see --import-delay-ms.

MODEL = "gpt-4o-mini"
PATH = "/v1/chat/completions"
# Same alphabet as the server's padding: a dropped or repeated chunk in a capture shifts it.
PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=int, default=1)
    parser.add_argument("--body-bytes", type=int, default=128,
                        help="exact size of each request body (>= 1)")
    parser.add_argument("--response-bytes", type=int, default=0,
                        help="ask the server for this body size (x-response-bytes); 0 = default")
    parser.add_argument("--import-delay-ms", type=int, default=0,
                        help="sleep this long before importing ssl/http.client")
    parser.add_argument("--pause-ms", type=int, default=0,
                        help="connect first, then wait this long before each request")
    args = parser.parse_args(argv)
    if args.requests < 0 or args.body_bytes < 1 or args.response_bytes < 0:
        parser.error("--requests >= 0, --body-bytes >= 1 and --response-bytes >= 0 required")
    return args


def padding(length, tag):
    """`length` characters starting with `tag`, continued by the cycling alphabet."""
    pattern = tag + PADDING_ALPHABET * (length // len(PADDING_ALPHABET) + 1)
    return pattern[:length]


def request_body(size, index):
    """A chat request of exactly `size` bytes; plain b'x' * size when even the empty one is too big."""
    def encode(content):
        message = {"model": MODEL, "messages": [{"role": "user", "content": content}]}
        return json.dumps(message, separators=(",", ":")).encode("ascii")

    minimal = len(encode(""))
    if size < minimal:
        return b"x" * size
    body = encode(padding(size - minimal, f"request {index}: "))
    assert len(body) == size, (len(body), size)
    return body


def check_completion(raw):
    """Raises ValueError unless `raw` is a chat.completion JSON object."""
    completion = json.loads(raw)
    if completion.get("object") != "chat.completion" or not completion.get("choices"):
        raise ValueError("response is not a chat.completion")


def run(args):
    # Imported only now so that libssl is loaded after the optional delay.
    import http.client
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(args.host, args.port, context=context, timeout=60)

    headers = {"Content-Type": "application/json"}
    if args.response_bytes > 0:
        headers["x-response-bytes"] = str(args.response_bytes)

    ok = sent = received = 0
    request_times = []
    try:
        if args.pause_ms > 0:
            connection.connect()
        for index in range(args.requests):
            body = request_body(args.body_bytes, index)
            if args.pause_ms > 0:
                time.sleep(args.pause_ms / 1000.0)
                request_times.append(time.monotonic_ns())
            connection.request("POST", PATH, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()  # must be drained before the connection is reused
            sent += len(body)
            received += len(raw)
            if response.status == 200:
                check_completion(raw)
                ok += 1
            if response.will_close:
                raise ConnectionError(f"server closed the connection (HTTP {response.status})")
    finally:
        connection.close()
    result = {"pid": os.getpid(), "requests": args.requests, "ok": ok,
              "sent_body_bytes": sent, "received_body_bytes": received}
    if args.pause_ms > 0:
        result["request_times_ns"] = request_times
    return result


def main(argv):
    args = parse_args(argv)
    if args.import_delay_ms > 0:
        time.sleep(args.import_delay_ms / 1000.0)
    try:
        result = run(args)
    except Exception as error:  # report any failure as one line and a non-zero exit
        print(f"python_client: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, separators=(",", ":")), flush=True)
    return 0 if result["ok"] == args.requests else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
