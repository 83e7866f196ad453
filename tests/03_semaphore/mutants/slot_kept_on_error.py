"""Mutant: acquire() and release() without try/finally: a request that raises keeps its slot for ever.

Caught by: test_a_failed_request_gives_its_slot_back
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
    free_slots = threading.Semaphore(max_concurrent)
    bodies: dict[str, bytes] = {}

    # One client for all threads: it is thread-safe and reuses connections. Its pool must not
    # be smaller than the semaphore, or requests would queue for a connection instead of a slot.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=max_concurrent)
    with httpx.Client(timeout=timeout, limits=limits) as client:

        def download(url: str) -> None:
            try:
                free_slots.acquire()
                response = client.get(url)
                response.raise_for_status()
                free_slots.release()
            except httpx.HTTPError:
                return
            bodies[url] = response.content  # each thread writes its own key

        # Every URL gets a thread at once and waits for a slot, so a slot freed by a fast
        # download goes straight to the next URL instead of waiting for a whole batch.
        threads = [threading.Thread(target=download, args=(url,)) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return bodies
