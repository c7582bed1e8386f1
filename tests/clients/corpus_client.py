#!/usr/bin/env python3
"""Replays corpus requests (tests/data/corpus/*.json) with python's http.client over ONE
keep-alive TLS connection, as an application calling an LLM API would.

    corpus_client.py --port P --corpus-dir D [--repeat N] CASE...

CASE is a case file path relative to the corpus dir (e.g. openai/chat_basic.json). Each request
carries the case's method, path, headers and body, its Host header (so the agent sees the real
provider host), and `x-llmtap-case: CASE` so the replay server answers with that case's
response. Prints one JSON line: {"pid":..., "sent":N, "statuses":[...], "connections":1}.
"""
import argparse
import http.client
import json
import os
import ssl
import sys


def request_parts(case):
    request = case["request"]
    if "body_text" in request:
        body = request["body_text"].encode()
    elif "body" in request:
        body = json.dumps(request["body"]).encode()
    else:
        body = b""
    headers = {"Host": request["host"]}
    headers.update(request.get("headers", {}))
    return request.get("method", "POST"), request["path"], headers, body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--corpus-dir", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("cases", nargs="+")
    args = parser.parse_args()

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(args.host, args.port, context=context, timeout=30)
    statuses = []
    for _ in range(args.repeat):
        for name in args.cases:
            with open(os.path.join(args.corpus_dir, name)) as f:
                case = json.load(f)
            method, path, headers, body = request_parts(case)
            headers["x-llmtap-case"] = name
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            if response.will_close:
                sys.exit(f"server closed the connection after {name}")
    connection.close()
    print(json.dumps({"pid": os.getpid(), "sent": len(statuses), "statuses": statuses,
                      "connections": 1}))


if __name__ == "__main__":
    main()
