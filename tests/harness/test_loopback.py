"""The loopback server, driven by httpx over real sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from grader.harness.loopback import LoopbackServer


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def wait_until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


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
    url = server.add(body="late", delay=0.3)

    started = time.perf_counter()
    response = httpx.get(url)
    elapsed = time.perf_counter() - started

    assert response.text == "late"
    assert 0.3 <= elapsed < 1.0
    (record,) = server.requests
    assert record.finished - record.started >= 0.3


def test_drop_closes_the_connection_without_response(server: LoopbackServer) -> None:
    dropped = server.add(drop=True)
    fine = server.add(body="ok")

    with httpx.Client() as client:
        with pytest.raises(httpx.TransportError):
            client.get(dropped)
        assert client.get(fine).text == "ok"  # the client recovers on a fresh connection


def test_delay_beyond_the_client_timeout_times_out(server: LoopbackServer) -> None:
    url = server.add(delay=1.0)

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
    wait_until(
        lambda: not any(
            "process_request_thread" in thread.name for thread in threading.enumerate()
        )
    )
    assert capsys.readouterr().err == ""


def test_refused_url_refuses_the_connection(server: LoopbackServer) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.refused_url(), timeout=5)


def _request_all_at_once(urls: list[str]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(urls))
    responses: list[httpx.Response] = []
    with httpx.Client(limits=httpx.Limits(max_connections=len(urls))) as client:

        def fetch(url: str) -> None:
            barrier.wait()
            responses.append(client.get(url))

        threads = [threading.Thread(target=fetch, args=(url,)) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return responses


@pytest.mark.parametrize("clients", [8, 64])
def test_peak_counts_simultaneous_requests(server: LoopbackServer, clients: int) -> None:
    url = server.add(body="slow", delay=0.4)

    responses = _request_all_at_once([url] * clients)

    assert [r.text for r in responses] == ["slow"] * clients
    assert server.peak_in_flight == clients
    assert server.in_flight == 0
    assert len(server.requests) == clients


def test_peak_is_one_for_sequential_requests(server: LoopbackServer) -> None:
    url = server.add(delay=0.05)

    with httpx.Client() as client:
        for _ in range(4):
            client.get(url)

    assert server.peak_in_flight == 1
    assert len(server.requests) == 4


def test_records_in_completion_order(server: LoopbackServer) -> None:
    slow = server.add(body="slow", delay=0.3)
    dropped = server.add(drop=True)
    slow_path = slow.removeprefix(server.base_url)

    before = time.perf_counter()
    slow_client = threading.Thread(target=httpx.get, args=(slow,))
    slow_client.start()
    wait_until(lambda: server.in_flight == 1)
    with pytest.raises(httpx.TransportError):
        httpx.get(dropped)
    slow_client.join()
    after = time.perf_counter()

    first, second = server.requests
    assert (first.path, first.status) == (dropped.removeprefix(server.base_url), None)
    assert (second.path, second.status) == (slow_path, 200)
    for record in (first, second):
        assert before <= record.started <= record.finished <= after
    assert second.started < first.started and first.finished < second.finished


def test_stop_is_prompt_while_a_slow_request_is_pending(server: LoopbackServer) -> None:
    url = server.add(delay=10)
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            httpx.get(url, timeout=5)
        except Exception as error:  # noqa: BLE001 - asserted on below
            outcome.append(error)

    client = threading.Thread(target=fetch)
    client.start()
    wait_until(lambda: server.in_flight == 1)

    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 0.5

    client.join(timeout=1.0)
    assert not client.is_alive()  # the pending client was hung up on, not left waiting
    (error,) = outcome
    assert isinstance(error, httpx.TransportError)
    server.stop()  # idempotent


def test_stop_hangs_up_idle_keep_alive_connections(server: LoopbackServer) -> None:
    url = server.add(body="ok")

    with httpx.Client() as client:
        assert client.get(url).text == "ok"
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get(url)


def test_reset_clears_records_and_peak_but_keeps_routes(server: LoopbackServer) -> None:
    url = server.add(body="kept", delay=0.1)
    _request_all_at_once([url] * 3)
    assert server.peak_in_flight == 3

    server.reset()

    assert server.requests == []
    assert server.peak_in_flight == 0
    assert httpx.get(url).text == "kept"
    assert server.peak_in_flight == 1
