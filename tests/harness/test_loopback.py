"""The loopback server, driven by httpx over real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from student_runtime.loopback import LoopbackServer


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def wait_until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def handler_threads() -> list[threading.Thread]:
    # socketserver names each handler thread after its target (Python 3.10+).
    return [t for t in threading.enumerate() if "process_request_thread" in t.name]


def start_fetchers(
    client: httpx.Client, url: str, count: int, outcomes: list[object]
) -> list[threading.Thread]:
    """Start `count` threads that GET `url` at the same instant.

    Each appends to `outcomes` the body it got or the httpx.TransportError it met.
    """
    barrier = threading.Barrier(count)

    def fetch() -> None:
        barrier.wait()
        try:
            outcomes.append(client.get(url).text)
        except httpx.TransportError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_body_status_and_content_type_round_trip(server: LoopbackServer) -> None:
    text_url = server.add(body="<p>héllo</p>", status=201)
    raw_url = server.add(body=b"\x00\xff", content_type="application/octet-stream")

    text = httpx.get(text_url)
    raw = httpx.get(raw_url)

    assert text.status_code == 201
    assert text.content == "<p>héllo</p>".encode()
    assert text.headers["content-type"] == "text/html; charset=utf-8"
    assert raw.status_code == 200
    assert raw.content == b"\x00\xff"
    assert raw.headers["content-type"] == "application/octet-stream"


def test_explicit_path_is_served_at_the_returned_url(server: LoopbackServer) -> None:
    url = server.add("/page/1?x=2", body="one")

    assert url == f"{server.base_url}/page/1?x=2"
    assert httpx.get(url).text == "one"


def test_unknown_path_answers_404(server: LoopbackServer) -> None:
    server.add("/known")

    response = httpx.get(f"{server.base_url}/unknown")

    assert response.status_code == 404
    assert [r.status for r in server.requests] == [404]


def test_random_paths_are_unique(server: LoopbackServer) -> None:
    urls = [server.add(body=str(i)) for i in range(200)]

    assert len(set(urls)) == len(urls)
    assert all(url.startswith(server.base_url + "/") for url in urls)
    with httpx.Client() as client:
        assert [client.get(url).text for url in urls[:5]] == ["0", "1", "2", "3", "4"]


def test_shared_client_keeps_the_connection_alive(server: LoopbackServer) -> None:
    urls = [server.add(body="x"), server.add(body="y")]

    with httpx.Client() as client:
        local_ports = {
            client.get(url).extensions["network_stream"].get_extra_info("client_addr")[1]
            for url in urls
        }

    assert len(local_ports) == 1


def test_delay_is_honoured(server: LoopbackServer) -> None:
    url = server.add(body="late", delay=0.2)

    started = time.perf_counter()
    response = httpx.get(url)
    elapsed = time.perf_counter() - started

    assert response.text == "late"
    assert 0.2 <= elapsed < 1.5
    (record,) = server.requests
    assert record.finished - record.started >= 0.2


def test_drop_closes_the_connection_without_response(server: LoopbackServer) -> None:
    dropped = server.add(drop=True)
    fine = server.add(body="ok")

    with httpx.Client() as client:
        with pytest.raises(httpx.TransportError):
            client.get(dropped)
        assert client.get(fine).text == "ok"  # the client recovers on a fresh connection


def test_delay_beyond_the_client_timeout_times_out(server: LoopbackServer) -> None:
    url = server.add(delay=0.5)

    with pytest.raises(httpx.TimeoutException):
        httpx.get(url, timeout=0.2)


def test_client_that_gave_up_causes_no_noise(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # A big body makes the late write fail for sure: the client's socket is already gone.
    url = server.add(body=b"x" * 8_000_000, delay=0.2)

    with pytest.raises(httpx.TimeoutException):
        httpx.get(url, timeout=0.05)

    wait_until(lambda: len(server.requests) == 1)
    wait_until(lambda: not handler_threads())
    assert capsys.readouterr().err == ""


def test_refused_url_refuses_the_connection(server: LoopbackServer) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.refused_url(), timeout=5)


def test_ports_list_the_server_and_every_refused_port(server: LoopbackServer) -> None:
    refused_ports = {int(server.refused_url().split(":")[2].split("/")[0]) for _ in range(10)}
    server_port = int(server.base_url.rsplit(":", 1)[1])
    assert server.ports[0] == server_port
    assert set(server.ports[1:]) == refused_ports and server_port not in refused_ports


def test_refused_ports_stay_reserved_until_stop() -> None:
    with LoopbackServer() as running:
        reserved = running.ports[1:]
        for port in reserved:
            with socket.socket() as other, pytest.raises(OSError):
                other.bind(("127.0.0.1", port))
    for port in reserved:  # released: another program may use them again
        with socket.socket() as other:
            other.bind(("127.0.0.1", port))


def test_peak_counts_simultaneous_requests(server: LoopbackServer) -> None:
    url = server.add(body="slow", delay=0.3)
    outcomes: list[object] = []

    with httpx.Client() as client:
        join_all(start_fetchers(client, url, 8, outcomes))

    assert outcomes == ["slow"] * 8
    assert server.peak_in_flight == 8
    assert server.peak_paths_in_flight == 1  # eight requests, one page
    assert server.in_flight == 0
    assert len(server.requests) == 8


def test_peak_paths_counts_distinct_registered_paths(server: LoopbackServer) -> None:
    pages = [server.add(delay=1.0) for _ in range(3)]  # still in flight during the 404s
    unregistered = f"{server.base_url}/nobody-registered-this"
    outcomes: list[object] = []

    with httpx.Client() as client:
        fetchers = [thread for url in pages for thread in start_fetchers(client, url, 2, outcomes)]
        wait_until(lambda: server.in_flight == 6)
        repeats = [client.get(unregistered).status_code for _ in range(3)]
        join_all(fetchers)

    assert repeats == [404] * 3
    assert server.peak_in_flight == 7  # the 404s were counted as requests
    assert server.peak_paths_in_flight == 3


def test_64_connections_are_handled_at_once(server: LoopbackServer) -> None:
    # No fixed delay could be sure to outlast 64 connects on a busy machine: wait, then stop.
    url = server.add(delay=10)
    outcomes: list[object] = []

    with httpx.Client() as client:
        threads = start_fetchers(client, url, 64, outcomes)
        wait_until(lambda: server.in_flight == 64, timeout=5)
        server.stop()
        join_all(threads)

    assert server.peak_in_flight == 64
    assert len(outcomes) == 64
    assert all(isinstance(outcome, httpx.TransportError) for outcome in outcomes)


def test_peak_is_one_for_sequential_requests(server: LoopbackServer) -> None:
    url = server.add(delay=0.05)

    with httpx.Client() as client:
        for _ in range(4):
            client.get(url)

    assert server.peak_in_flight == 1
    assert len(server.requests) == 4


def test_records_in_completion_order(server: LoopbackServer) -> None:
    slow = server.add(delay=10)  # cut short by stop() below, so it finishes last, unanswered
    fine = server.add(body="ok")
    dropped = server.add(drop=True)
    outcomes: list[object] = []

    before = time.perf_counter()
    with httpx.Client() as client:
        threads = start_fetchers(client, slow, 1, outcomes)
        wait_until(lambda: server.in_flight == 1)
        client.get(fine)
        with pytest.raises(httpx.TransportError):
            client.get(dropped)
        server.stop()
        join_all(threads)
    after = time.perf_counter()

    records = server.requests
    assert [(r.path, r.status) for r in records] == [
        (fine.removeprefix(server.base_url), 200),
        (dropped.removeprefix(server.base_url), None),
        (slow.removeprefix(server.base_url), None),
    ]
    for record in records:
        assert before <= record.started <= record.finished <= after
    assert records[2].started < records[0].started  # started first, finished last


def test_stop_is_prompt_while_a_slow_request_is_pending(server: LoopbackServer) -> None:
    url = server.add(delay=10)
    outcomes: list[object] = []

    with httpx.Client(timeout=5) as client:
        threads = start_fetchers(client, url, 1, outcomes)
        wait_until(lambda: server.in_flight == 1)

        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 0.5

        join_all(threads)  # the pending client was hung up on, not left to time out
    (outcome,) = outcomes
    assert isinstance(outcome, httpx.TransportError)
    assert not isinstance(outcome, httpx.TimeoutException)
    wait_until(lambda: server.in_flight == 0, timeout=0.5)  # the delay itself was cut short
    assert [r.status for r in server.requests] == [None]
    server.stop()  # idempotent


def test_stop_is_prompt_right_after_start() -> None:
    idle = LoopbackServer()
    idle.start()

    started = time.perf_counter()
    idle.stop()

    assert time.perf_counter() - started < 0.2


def test_stop_hangs_up_idle_keep_alive_connections(server: LoopbackServer) -> None:
    url = server.add(body="ok")

    with httpx.Client() as client:
        assert client.get(url).text == "ok"
        server.stop()
        wait_until(lambda: not handler_threads(), timeout=1.0)  # no thread left on the idle one
        with pytest.raises(httpx.TransportError):
            client.get(url)


def test_reset_clears_records_and_peak_but_keeps_routes(server: LoopbackServer) -> None:
    url = server.add(body="kept")
    with httpx.Client() as client:
        client.get(url)
        server.reset()

        assert server.requests == []
        assert server.peak_in_flight == 0
        assert server.peak_paths_in_flight == 0
        assert client.get(url).text == "kept"
    assert len(server.requests) == 1
    assert server.peak_in_flight == 1
    assert server.peak_paths_in_flight == 1
