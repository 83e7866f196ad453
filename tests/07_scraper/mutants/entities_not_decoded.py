"""Mutant: the title's HTML entities are left as they are (&amp; stays &amp;).

Caught by: test_titles_are_parsed
"""

import re
from concurrent.futures import ThreadPoolExecutor

import httpx

TIMEOUT = 5.0  # seconds; a server that never answers must not hang the scraper

# Non-greedy, so that the match ends at the first </title>; DOTALL lets it cross newlines.
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def extract_title(page: str) -> str | None:
    """The text of the page's first <title> element, or None when it has none."""
    match = _TITLE.search(page)
    if match is None:
        return None
    return match.group(1).strip()


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
    # One client serves every thread: httpx.Client is thread-safe, and its pool opens a
    # connection per request in flight and keeps it for the next one.
    with httpx.Client(timeout=TIMEOUT) as client, ThreadPoolExecutor(max_workers=workers) as pool:
        titles = pool.map(lambda url: fetch_title(client, url), urls)
        return dict(zip(urls, titles))
