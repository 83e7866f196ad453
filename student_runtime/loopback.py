"""A real HTTP server on 127.0.0.1 for grading students' httpx downloaders and scrapers.

A mocked transport would only show that the student called httpx; threads, timeouts and
connection errors have to meet real sockets. This server answers routes registered by a test,
can be slow, fail or hang up on cue, and counts concurrent requests on its own side of the
wire, so the parallelism a test measures is the one the student's code really produced.

A request counts as in flight from the moment it has been read until the moment the server
starts sending its answer (or hangs up). Ending the count *before* the first byte goes out
means that once a client has seen a response, the server has already counted it done, so a
client that never has more than N requests open can never be measured above N.

Besides the requests, the server counts the distinct registered paths in flight: a client
that repeats requests for pages it has fetched, or for paths nobody registered, can fill up
the first count without doing more of the work it was given, never the second.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import socketserver
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_HOST = "127.0.0.1"

# serve_forever() looks for a shutdown request once per poll; the default 0.5 s would make
# stop() as slow as that.
_POLL_INTERVAL = 0.05
# Ports held for refused_url(): bound but never listening, so a connection to one is refused
# and no other program can take it meanwhile.
_REFUSED_PORTS = 2


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it; times are time.perf_counter() values."""

    path: str
    started: float  # the request line has been read
    finished: float  # the server starts sending the response, or hangs up
    status: int | None  # None when the server hung up without answering


@dataclass(frozen=True)
class _Route:
    body: bytes
    status: int
    delay: float
    drop: bool
    content_type: str


_NOT_FOUND = _Route(b"not found", 404, 0.0, False, "text/plain; charset=utf-8")


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 with Content-Length keeps connections alive, so a shared httpx.Client reuses them.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm and delayed ACKs every
    # request on a reused keep-alive connection would wait about 40 ms for nothing.
    disable_nagle_algorithm = True
    server: _HTTPServer
    _started: float

    def parse_request(self) -> bool:
        self._started = time.perf_counter()  # called right after the request line was read
        return super().parse_request()

    def do_GET(self) -> None:
        loopback = self.server.loopback
        route = loopback._enter(self.path)
        # An Event instead of time.sleep(), so that stop() cuts every pending delay short.
        interrupted = loopback._stopping.wait(route.delay)
        dropped = route.drop or interrupted
        status = None if dropped else route.status
        loopback._leave(RequestRecord(self.path, self._started, time.perf_counter(), status), route)
        if dropped:
            self.close_connection = True  # the socket is closed without a single byte sent
            return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean: no line on stderr per request."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler stuck with a silent client must not keep Python alive
    request_queue_size = 128  # listen backlog: a burst of 64+ simultaneous connects succeeds

    def __init__(self, loopback: LoopbackServer) -> None:
        self.loopback = loopback
        self._connections: set[socket.socket] = set()
        super().__init__((_HOST, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a reverse DNS lookup that takes
        # seconds on some Windows and macOS hosts; nothing here needs the name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = _HOST, self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.loopback._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.loopback._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on every open connection, including idle keep-alive ones.

        Without this, a handler waiting for the next request of an idle keep-alive client
        (a student's httpx.Client that is never closed) would keep its thread and socket
        until that client goes away.
        """
        with self.loopback._lock:  # held, so no handler closes a socket under our feet
            for connection in self._connections:
                with contextlib.suppress(OSError):  # the client has already closed it
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout expired, it was cancelled) is a normal event in
        # these tests, as is a connection cut by stop(); only other errors are worth a traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError) or (
            isinstance(error, OSError) and self.loopback._stopping.is_set()
        ):
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    """HTTP/1.1 server on 127.0.0.1, ephemeral port, serving in background threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self._records: list[RequestRecord] = []
        self._in_flight = 0
        self._peak = 0
        self._paths_in_flight: Counter[str] = Counter()  # registered paths only
        self._peak_paths = 0
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._refusing: list[socket.socket] = []
        self._refused_count = 0

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("a LoopbackServer can be started only once")
        self._httpd = _HTTPServer(self)
        for _ in range(_REFUSED_PORTS):
            refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            refusing.bind((_HOST, 0))
            self._refusing.append(refusing)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"loopback-{self._httpd.server_port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and hang up on every connection; pending delays end at once.

        A request still being handled is then dropped, never answered.
        """
        if self._httpd is None or self._thread is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._thread.join()
        for refusing in self._refusing:
            refusing.close()

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server has not been started")
        return f"http://{_HOST}:{self._httpd.server_port}"

    def add(
        self,
        path: str | None = None,
        *,
        body: bytes | str = b"",
        status: int = 200,
        delay: float = 0.0,
        drop: bool = False,
        content_type: str = "text/html; charset=utf-8",
    ) -> str:
        """Register a route and return its full URL.

        path None -> a fresh random unique path (so students cannot hard-code URLs); a path
        is matched exactly, query string included. delay: seconds the server waits before
        answering (stop() interrupts it). drop: after the delay, close the connection without
        sending any response. A str body is encoded as UTF-8.
        """
        base_url = self.base_url
        if path is None:
            path = f"/{secrets.token_hex(8)}"  # 64 random bits: unique without bookkeeping
        elif not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        if isinstance(body, str):
            body = body.encode("utf-8")
        with self._lock:
            self._routes[path] = _Route(body, status, delay, drop, content_type)
        return base_url + path

    @property
    def ports(self) -> list[int]:
        """The server's port, then the ports of refused_url(): all a client of it connects to."""
        if self._httpd is None:
            raise RuntimeError("the server has not been started")
        return [self._httpd.server_port, *(refusing.getsockname()[1] for refusing in self._refusing)]

    def refused_url(self) -> str:
        """A fresh URL on a loopback port where nothing listens, so connecting is refused.

        The server holds its refused ports from start() to stop() (bound, never listening), so
        no other program can take one meanwhile; successive calls take turns over them. On
        Windows the refusal takes about 2 s to arrive, because the OS retries the connection
        attempt: give the client a longer timeout than that.
        """
        if not self._refusing:
            raise RuntimeError("the server has not been started")
        with self._lock:
            refusing = self._refusing[self._refused_count % len(self._refusing)]
            self._refused_count += 1
        return f"http://{_HOST}:{refusing.getsockname()[1]}/{secrets.token_hex(8)}"

    @property
    def in_flight(self) -> int:
        """Requests currently being handled."""
        with self._lock:
            return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """The highest in_flight since start or the last reset()."""
        with self._lock:
            return self._peak

    @property
    def peak_paths_in_flight(self) -> int:
        """The most distinct registered paths in flight at once since start or the last reset()."""
        with self._lock:
            return self._peak_paths

    @property
    def requests(self) -> list[RequestRecord]:
        """Completed requests, in completion order (a copy)."""
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        """Forget the records and the peaks; routes stay."""
        with self._lock:
            self._records.clear()
            # Requests still in flight are part of the new peaks.
            self._peak = self._in_flight
            self._peak_paths = len(self._paths_in_flight)

    def _enter(self, path: str) -> _Route:
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            route = self._routes.get(path, _NOT_FOUND)
            if route is not _NOT_FOUND:
                self._paths_in_flight[path] += 1
                self._peak_paths = max(self._peak_paths, len(self._paths_in_flight))
            return route

    def _leave(self, record: RequestRecord, route: _Route) -> None:
        """`route` is the one _enter() gave for this request, so that a path registered while
        the request was in flight is not taken off a count it was never added to."""
        with self._lock:
            self._in_flight -= 1
            if route is not _NOT_FOUND:
                self._paths_in_flight[record.path] -= 1
                if not self._paths_in_flight[record.path]:
                    del self._paths_in_flight[record.path]
            self._records.append(record)
