"""Mutant: a pool of max_concurrent threads whose first failing request raises out of download_all().

Caught by: test_failed_urls_are_left_out_and_never_stop_the_others
"""

from concurrent.futures import ThreadPoolExecutor

import httpx


def download_all(urls: list[str], max_concurrent: int, timeout: float = 10.0) -> dict[str, bytes]:
    """Download every URL with httpx on threads, with never more than max_concurrent requests in flight,
    and as soon as one finishes the next waiting URL starts (a sliding window, not batches).
    Return {url: body} for every 2xx response. A URL that fails (4xx/5xx status, refused or dropped
    connection, no answer within timeout seconds) is left out and never stops the others.
    Raise ValueError if max_concurrent < 1."""
    if max_concurrent < 1:
        raise ValueError(f"max_concurrent must be at least 1, not {max_concurrent}")

    def download(url: str) -> bytes:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
        return response.content

    # The pool's threads are the slots: at most max_concurrent downloads run at once.
    with ThreadPoolExecutor(max_workers=max_concurrent) as pool:
        futures = {url: pool.submit(download, url) for url in urls}
        return {url: future.result() for url, future in futures.items()}
