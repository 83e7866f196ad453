"""Collect the <title> of many web pages, first one page at a time, then with threads.

Fetching a page is mostly waiting for the network. While one thread waits for its answer,
others can send their requests, so a few threads should scrape nearly that many times faster.
"""

import httpx  # noqa: F401 - you will need it

TIMEOUT = 5.0  # seconds per request; a server that never answers must not hang the scraper


def scrape_sequential(urls: list[str]) -> dict[str, str | None]:
    """For each URL, the text of the page's first <title> element: tag name matched
    case-insensitively, attributes allowed, surrounding whitespace stripped, HTML entities
    decoded. None when the request fails (status >= 400, refused or dropped connection,
    timeout) or the page has no title. One failure never stops the others.

    One request at a time, each URL requested once.
    """
    # TODO: implement this.
    raise NotImplementedError("scrape_sequential() is not written yet")


def scrape_threaded(urls: list[str], workers: int) -> dict[str, str | None]:
    """The same result as scrape_sequential(urls), fetched by `workers` threads, so that up
    to `workers` requests wait for their answers at the same time (never more)."""
    # TODO: implement this.
    raise NotImplementedError("scrape_threaded() is not written yet")
