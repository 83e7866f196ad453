"""Download many URLs at once, politely: never more than max_concurrent requests in flight.

Starting a thread per URL makes a downloader fast, but a hundred URLs would then hit the
server with a hundred requests at the same moment. A semaphore holds a fixed number of slots:
a thread takes one before its request and gives it back after, so the others wait their turn.
"""

import threading  # noqa: F401 - you will need it

import httpx  # noqa: F401 - you will need it


def download_all(urls: list[str], max_concurrent: int, timeout: float = 10.0) -> dict[str, bytes]:
    """Download every URL with httpx on threads, with never more than max_concurrent requests in flight,
    and as soon as one finishes the next waiting URL starts (a sliding window, not batches).
    Return {url: body} for every 2xx response. A URL that fails (4xx/5xx status, refused or dropped
    connection, no answer within timeout seconds) is left out and never stops the others.
    Raise ValueError if max_concurrent < 1."""
    # TODO: implement this.
    raise NotImplementedError("download_all() is not written yet")
