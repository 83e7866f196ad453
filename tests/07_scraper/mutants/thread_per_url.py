"""Mutant: scrape_threaded starts one thread per URL and ignores workers.

Caught by: test_workers_requests_in_flight
"""

import html
import re
import threading

import httpx

TIMEOUT = 5.0  # seconds; a server that never answers must not hang the scraper

# Non-greedy, so that the match ends at the first </title>; DOTALL lets it cross newlines.
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def extract_title(page: str) -> str | None:
    """The text of the page's first <title> element, or None when it has none."""
    match = _TITLE.search(page)
    if match is None:
        return None
    return html.unescape(match.group(1)).strip()


def fetch_title(client: httpx.Client, url: str) -> str | None:
    """The title of the page at url, or None when the request fails."""
    try:
        response = client.get(url)
    except httpx.HTTPError:  # refused, dropped, timed out, ...
        return None
    if response.status_code >= 400:
        return None
    return extract_title(response.text)


def scrape_sequential(urls: list[str]) -> dict[str, str | None]:
    """For each URL, the text of the page's first <title> element: tag name matched
    case-insensitively, attributes allowed, surrounding whitespace stripped, HTML entities
    decoded. None when the request fails (status >= 400, refused or dropped connection,
    timeout) or the page has no title. One failure never stops the others.

    One request at a time, each URL requested once.
    """
    with httpx.Client(timeout=TIMEOUT) as client:
        return {url: fetch_title(client, url) for url in urls}


def scrape_threaded(urls: list[str], workers: int) -> dict[str, str | None]:
    """The same result as scrape_sequential(urls), fetched by `workers` threads, so that up
    to `workers` requests wait for their answers at the same time (never more)."""
    titles: dict[str, str | None] = {}

    def work(client: httpx.Client, url: str) -> None:
        titles[url] = fetch_title(client, url)

    with httpx.Client(timeout=TIMEOUT) as client:
        threads = [threading.Thread(target=work, args=(client, url)) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return titles
