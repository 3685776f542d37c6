"""A fake OpenAI-compatible API on 127.0.0.1 for the end-to-end tests.

POST /v1/chat/completions answers by the request's `model`:
  fake-429 → 429 rate limit, fake-500 → 500 server error, anything else → a completion (streamed
  as server-sent events when `stream` is true, with a tool call when `tools` are offered and no
  tool result is in the conversation yet). Every completion carries a distinct usage, with cached
  tokens on some, and is written to the ledger (GET /ledger) so the test compares Tokenmeter's
  numbers with what this "provider" billed. The answered model is pinned ("gpt-4o-mini-2024-07-18").

Optionally (--capture DIR) it also accepts OTLP exports (POST /v1/traces, /v1/logs) and saves
each body as sent, to build unit-test fixtures from the real libraries.

Run alone, it prints the port it listens on, then serves until killed; drive.py also runs it
in-process (start()) and writes its ledger to a file when done.
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "gpt-4o-mini-2024-07-18"
ledger = []
lock = threading.Lock()
counter = [0]


def next_usage(cached_every_other=True):
    """A distinct usage per call: prompt 1000+37n, completion 100+11n, every second call cached."""
    with lock:
        counter[0] += 1
        n = counter[0]
    prompt = 1000 + 37 * n
    cached = 512 if (cached_every_other and n % 2 == 0) else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": 100 + 11 * n,
        "total_tokens": prompt + 100 + 11 * n,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    capture_dir = None

    def log_message(self, *args):
        pass

    def send_json(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ledger":
            with lock:
                self.send_json(200, list(ledger))
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path in ("/v1/traces", "/v1/logs", "/api/public/otel/v1/traces") and self.capture_dir:
            self.capture(body)
            return
        if self.path != "/v1/chat/completions":
            self.send_json(404, {"error": {"message": "no such route", "type": "invalid_request_error"}})
            return
        request = json.loads(body)
        model = request.get("model", "")
        if model == "fake-429":
            self.send_json(429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
                           headers=[("retry-after", "0")])
            return
        if model == "fake-500":
            self.send_json(500, {"error": {"message": "The server had an error", "type": "server_error"}})
            return
        offer_tool = bool(request.get("tools")) and not any(m.get("role") == "tool" for m in request.get("messages", []))
        usage = next_usage()
        with lock:
            ledger.append({"usage": usage, "model": MODEL, "stream": bool(request.get("stream"))})
        message = {"role": "assistant", "content": "The weather is sunny."}
        finish = "stop"
        if offer_tool:
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_%d" % counter[0], "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]}
            finish = "tool_calls"
        created = int(time.time())
        if request.get("stream"):
            self.stream(message, finish, usage, created, include_usage=(request.get("stream_options") or {}).get("include_usage", False))
            return
        self.send_json(200, {
            "id": "chatcmpl-%d" % counter[0], "object": "chat.completion", "created": created, "model": MODEL,
            "system_fingerprint": "fp_fake", "service_tier": "default",
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": usage,
        })

    def stream(self, message, finish, usage, created, include_usage):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(payload):
            data = ("data: " + (payload if isinstance(payload, str) else json.dumps(payload)) + "\n\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        base = {"id": "chatcmpl-s%d" % counter[0], "object": "chat.completion.chunk", "created": created, "model": MODEL,
                "system_fingerprint": "fp_fake"}
        chunk({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        for piece in ["The weather ", "is ", "sunny."]:
            time.sleep(0.01)
            chunk({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        chunk({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if include_usage:
            chunk({**base, "choices": [], "usage": usage})
        chunk("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def capture(self, body):
        kind = "json" if "json" in (self.headers.get("Content-Type") or "") else "pb"
        name = "%s-%03d.%s%s" % (self.path.rsplit("/", 1)[1], len(os.listdir(self.capture_dir)), kind,
                                 ".gz" if self.headers.get("Content-Encoding") == "gzip" else "")
        with open(os.path.join(self.capture_dir, name), "wb") as f:
            f.write(body)
        self.send_response(200)
        self.send_header("Content-Type", self.headers.get("Content-Type") or "application/x-protobuf")
        reply = b"{}" if kind == "json" else b""
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def start(capture_dir=None):
    """Serves on a daemon thread; returns the server (its port: server.server_port)."""
    if capture_dir:
        os.makedirs(capture_dir, exist_ok=True)
        Handler.capture_dir = capture_dir
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def billed():
    """The usage of every completion answered so far."""
    with lock:
        return list(ledger)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--capture", help="also accept OTLP exports and save their bodies in this folder")
    args = parser.parse_args()
    server = start(args.capture)
    print(server.server_port, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
