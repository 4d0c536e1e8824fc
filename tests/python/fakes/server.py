"""A threaded HTTP server on 127.0.0.1 (port 0) with scripted faults and a request log."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-serialisable, or None for no body
    headers: dict[str, str] = field(default_factory=dict)


DROP = "drop"  # a fault that closes the connection without answering


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (retries, dropped connections) are part of the script."""


class FakeAPI:
    """Subclasses implement `answer(request)`; `fail_next` and `go_down` script faults.

    Faults apply to requests whose path contains `match` (all when empty), in order, before
    the API itself answers. Every request is logged in `requests` (faults included).
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._faults: deque[tuple[str, Answer | str]] = deque()
        self._down_after: int | None = None
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                request = Request("GET", parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                                  {k.lower(): v for k, v in self.headers.items()})
                answer = api._dispatch(request)
                if answer == DROP:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                assert isinstance(answer, Answer)
                body = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> FakeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- scripting -------------------------------------------------------------------------
    def fail_next(self, answer: Answer | str, times: int = 1, match: str = "") -> None:
        with self._lock:
            self._faults.extend([(match, answer)] * times)

    def go_down(self, after_requests: int) -> None:
        """From the request after the next `after_requests` on, drop every connection."""
        with self._lock:
            self._down_after = len(self.requests) + after_requests

    def come_back(self) -> None:
        with self._lock:
            self._down_after = None

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _dispatch(self, request: Request) -> Answer | str:
        with self._lock:
            self.requests.append(request)
            if self._down_after is not None and len(self.requests) > self._down_after:
                return DROP
            for i, (match, answer) in enumerate(self._faults):
                if match in request.path:
                    del self._faults[i]
                    return answer
        return self.answer(request)

    def answer(self, request: Request) -> Answer:
        raise NotImplementedError
