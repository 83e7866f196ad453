"""Mutant: each thread creates its own Semaphore(max_concurrent), so none of them ever waits.

Caught by: test_max_concurrent_requests_in_flight_and_never_more
"""

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
    bodies: dict[str, bytes] = {}

    def download(url: str) -> None:
        with threading.Semaphore(max_concurrent):
            try:
                response = httpx.get(url, timeout=timeout)
            except httpx.HTTPError:
                return
        if response.is_success:
            bodies[url] = response.content

    threads = [threading.Thread(target=download, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return bodies
