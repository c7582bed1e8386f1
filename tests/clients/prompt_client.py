#!/usr/bin/env python3
"""Sends chat-completion POSTs, one per entry of a JSON list [{"model": M, "prompt": P}, ...],
over ONE keep-alive HTTPS connection (python's http.client, system libssl). For end-to-end
policy tests: which model, and what text, reaches the wire.

  prompt_client.py --host 127.0.0.1 --port P --requests FILE [--linger-ms N]

--linger-ms keeps the process alive that long after its last response, so that an agent that
reads /proc/PID when it builds the call's record still finds the process there.

Prints {"pid": ..., "ok": <200 responses>} and exits non-zero unless every response was 200.
"""
import argparse
import http.client
import json
import os
import ssl
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", required=True)
    parser.add_argument("--linger-ms", type=int, default=0)
    args = parser.parse_args()
    with open(args.requests, encoding="utf-8") as f:
        requests = json.load(f)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(args.host, args.port, context=context)
    ok = 0
    for r in requests:
        body = json.dumps({"model": r["model"],
                           "messages": [{"role": "user", "content": r["prompt"]}]})
        headers = {"Content-Type": "application/json",
                   "Authorization": "Bearer " + r.get("key", "sk-test-not-a-real-key")}
        connection.request("POST", "/v1/chat/completions", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        ok += 1 if response.status == 200 else 0
    connection.close()
    print(json.dumps({"pid": os.getpid(), "ok": ok}), flush=True)
    time.sleep(args.linger_ms / 1000.0)
    return 0 if ok == len(requests) else 1


if __name__ == "__main__":
    sys.exit(main())
