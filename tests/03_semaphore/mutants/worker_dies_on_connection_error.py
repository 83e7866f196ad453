"""Mutant: a pool of max_concurrent worker threads that only catches error statuses, so a dropped connection ends its worker.

Caught by: test_a_failed_request_gives_its_slot_back
"""

import queue
import threading

import httpx


def download_all(urls: list[str], max_concurrent: int, timeout: float = 10.0) -> dict[str, bytes]:
    """Download every URL with httpx on threads, with never more than max_concurrent requests in flight,
    and as soon as one finishes the next waiting URL starts (a sliding window, not batches).
    Return {url: body} for every 2xx response. A URL that fails (4xx/5xx status, refused or dropped
    connection, no answer within timeout seconds) is left out and never stops the others.
    Raise ValueError if max_concurrent < 1."""
    if max_concurrent < 1:
        raise ValueError(f"max_concurrent must be at least 1, not {max_concurrent}")
    waiting: queue.Queue[str] = queue.Queue()
    for url in urls:
        waiting.put(url)
    bodies: dict[str, bytes] = {}

    with httpx.Client(timeout=timeout) as client:

        def worker() -> None:
            while True:
                try:
                    url = waiting.get_nowait()
                except queue.Empty:
                    return
                try:
                    response = client.get(url)
                    response.raise_for_status()
                except httpx.HTTPStatusError:
                    continue
                bodies[url] = response.content

        workers = [threading.Thread(target=worker) for _ in range(max_concurrent)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    return bodies
