"""Diagnoses of exercises/07_scraper: the mistakes a scraper that waits for the network in threads invites.

`call` is how a message names the call that went wrong, e.g. "scrape_threaded(6 URLs, workers=3)".
A page is named by its kind, a key of PAGES or of FAILURES, so that the advice that fits the
mistake comes with it whatever the page's random text.
"""

from __future__ import annotations

from collections.abc import Sequence

PAGES = {  # kind of page -> (how a student reads it, what it takes to read its title)
    "plain": ("a plain <title>", "Search the page for <title>...</title>."),
    "mixed_case": ("a <title> tag in upper or mixed case",
                   "Tag names are case-insensitive: match <TITLE> and <Title> too (re.IGNORECASE)."),
    "attributes": ("a <title> tag with attributes",
                   "The opening tag may carry attributes: accept anything up to its '>', as <title[^>]*> does."),
    "whitespace": ("a title surrounded by newlines and spaces",
                   "Strip the whitespace around the text; in a regular expression '.' only crosses newlines"
                   " with re.DOTALL."),
    "entities": ("a title with HTML entities (&amp; &lt; &#39; &eacute; ...)",
                 "Decode the entities with html.unescape()."),
    "second_title": ("a page with a second <title> further down",
                     "Take the first title only: a greedy '.*' runs on to the last </title>; use '.*?'."),
    "no_title": ("a page without a <title>", "A page without a title gives None."),
}
STATUS_ADVICE = ("A status of 400 or more is an error page, whatever its <title> says: check"
                 " response.status_code (or call response.raise_for_status() inside the try).")
CONNECTION_ADVICE = "Catch httpx.HTTPError around the request and record None."
FAILURES = {  # kind of failing URL -> (how a student reads it, how to turn it into None)
    "404": ("a page answered with status 404", STATUS_ADVICE),
    "500": ("a page answered with status 500", STATUS_ADVICE),
    "refused": ("a URL where the connection is refused", CONNECTION_ADVICE),
    "hangs_up": ("a server that hangs up without answering", CONNECTION_ADVICE),
}


def wrong_titles(call: str, wrong: Sequence[tuple[str, str | None, str | None]]) -> str:
    """`wrong` lists (kind of page, title returned, title expected) for each page read wrong."""
    lines = [f"- {PAGES[kind][0]}: got {got!r}, expected {expected!r}. {PAGES[kind][1]}"
             for kind, got, expected in wrong]
    return f"wrong titles from {call}:\n" + "\n".join(lines)


def failures_mixed_up(call: str, failures: Sequence[tuple[str, str | None]],
                      good: Sequence[tuple[str | None, str]]) -> str:
    """`failures` lists (kind of failing URL, title returned instead of None); `good` lists
    (title returned, title expected) for each good page among them that came back wrong."""
    lines = [f"- {FAILURES[kind][0]}: got {got!r}, expected None. {FAILURES[kind][1]}" for kind, got in failures]
    lines += [f"- a good page among the failures: got {got!r}, expected {expected!r}. One failure must not"
              " stop the other URLs." for got, expected in good]
    return f"{call} mixed up failures and pages:\n" + "\n".join(lines)


def raised_instead_of_dict(call: str, error: str) -> str:
    """An exception escaped the scraper: a failure that was not caught, most often."""
    return (f"{call} raised an exception instead of returning its dict: {error}\nOne URL must never stop"
            " the others: when a request fails or a page has no title, record None for that URL and go on.")


def entries_missing(call: str, missing: int, total: int, example: str) -> str:
    return (f"{call} returned no entry for {missing} of the {total} URLs (e.g. {example}): every URL needs"
            " one, None when its request failed. Did an exception end a thread?")


def requested_more_than_once(call: str, repeated: Sequence[str]) -> str:
    """`repeated` says "URL n times" for a few URLs."""
    return (f"{call} requested the same URL more than once: {', '.join(repeated[:3])}. Fetch each URL"
            " exactly once; the requests in flight at the same time must be for different pages.")


def too_many_in_flight(call: str, peak: int, wanted: int) -> str:
    """More requests at once than workers: a thread per URL, or the executor's default size."""
    return (f"more than {wanted} requests in flight: the server saw {peak} at once during {call}. Run"
            " exactly `workers` threads (for example ThreadPoolExecutor(max_workers=workers)), not one"
            " thread per URL nor the executor's default number.")


def too_few_in_flight(call: str, peak: int, wanted: int, delay: float) -> str:
    """Fewer pages at once than workers: the threads ran one after another."""
    return (f"only {peak} page(s) requested at once during {call}, expected {wanted}: the threads did not"
            f" wait for the server together (each page takes {delay:g} s to answer). Start every thread"
            " before joining any, and hold no lock around the request.")


def not_faster(pages: int, delay: float, sequential: float, parallel: float, workers: int, peak: int,
               bar: float, rounds: int = 1) -> str:
    """Threads that do not overlap their waits gain nothing; `rounds` is how many were measured."""
    best = f" (best of {rounds} rounds)" if rounds > 1 else ""
    return (f"not faster: {pages} pages that each take {delay:g} s to answer took {sequential:.2f} s"
            f" fetched one after another and {parallel:.2f} s with scrape_threaded(workers={workers}) (at"
            f" most {peak} in flight at once), a speedup of {sequential / parallel:.2f}x; ideal is"
            f" {workers}x, the bar {bar:.1f}x{best}. The threads must wait for the network at the same"
            " time: start them all before joining any, and hold no lock around the request.")
