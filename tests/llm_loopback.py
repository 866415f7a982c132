"""A scripted LLM server on 127.0.0.1 that speaks the OpenAI Chat Completions and Anthropic
Messages protocols, so the real SDKs and the production client code run unchanged in tests.

Each POST takes the next scripted step: a JSON answer (wrapped in the protocol's reply
shape: message content for OpenAI, a forced tool call for Anthropic), raw text, an HTTP
error status, or a delay longer than the client's timeout. Requests are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    """One scripted reply. `answer` is sent as the model's JSON; `text` as raw model text."""

    answer: Any = None
    text: str | None = None
    status: int = 200
    delay_s: float = 0.0
    error_body: str = ""
    input_tokens: int = 1200
    output_tokens: int = 800


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Script:
    steps: list[Step] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Step:
        with self.lock:
            if not self.steps:
                return Step(status=599, error_body="script exhausted")
            return self.steps.pop(0)


def _openai_reply(step: Step, body: dict[str, Any]) -> dict[str, Any]:
    content = step.text if step.text is not None else json.dumps(step.answer)
    return {
        "id": "chatcmpl-loopback", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": step.input_tokens, "completion_tokens": step.output_tokens,
                  "total_tokens": step.input_tokens + step.output_tokens},
    }


def _anthropic_reply(step: Step, body: dict[str, Any]) -> dict[str, Any]:
    if step.text is not None:
        content = [{"type": "text", "text": step.text}]
    else:
        tool = body["tools"][0]["name"]
        content = [{"type": "tool_use", "id": "toolu_loopback", "name": tool, "input": step.answer}]
    return {
        "id": "msg_loopback", "type": "message", "role": "assistant", "model": body.get("model", ""),
        "content": content, "stop_reason": "tool_use" if step.text is None else "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": step.input_tokens, "output_tokens": step.output_tokens},
    }


class _Handler(BaseHTTPRequestHandler):
    server: "LoopbackLLM"

    def log_message(self, *_args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        script = self.server.script
        with script.lock:
            script.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        step = script.next()
        if step.delay_s:
            time.sleep(step.delay_s)
        if step.status != 200:
            payload = json.dumps({"error": {"message": step.error_body or f"scripted {step.status}",
                                            "type": "scripted"}}).encode()
            self.send_response(step.status)
            self.send_header("content-type", "application/json")
            self.send_header("retry-after-ms", "10")  # both SDKs honour it: keeps retry tests fast
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if self.path.endswith("/chat/completions"):
            reply = _openai_reply(step, body)
        elif self.path.endswith("/messages"):
            reply = _anthropic_reply(step, body)
        else:
            self.send_error(404)
            return
        payload = json.dumps(reply).encode()
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass


class LoopbackLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = Script()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "LoopbackLLM":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def play(self, *steps: Step) -> None:
        with self.script.lock:
            self.script.steps = list(steps)
            self.script.requests.clear()

    @property
    def requests(self) -> list[Recorded]:
        return list(self.script.requests)
