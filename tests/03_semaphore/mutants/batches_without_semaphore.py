"""Mutant: threads started in batches of max_concurrent and joined batch by batch, with no semaphore at all.

Caught by: test_a_free_slot_goes_to_the_next_url_at_once
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
        try:
            response = httpx.get(url, timeout=timeout)
        except httpx.HTTPError:
            return
        if response.is_success:
            bodies[url] = response.content

    # Never more than max_concurrent threads alive: start a batch, wait for all of it.
    for first in range(0, len(urls), max_concurrent):
        batch = [threading.Thread(target=download, args=(url,)) for url in urls[first:first + max_concurrent]]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    return bodies
