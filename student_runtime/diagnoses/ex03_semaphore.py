"""Diagnoses of exercises/03_semaphore: the mistakes a downloader limited by a semaphore invites."""

from __future__ import annotations


def urls_missing(missing: int, wanted: int, examples: str) -> str:
    """Good URLs left out: an empty body dropped, a 201 refused, or a failure that stopped the rest."""
    return (f"{missing} of the {wanted} URLs that answer 2xx are missing from the result: {examples}."
            " Every 2xx answer counts (200, 201, 203, ...), and a URL that fails must never stop the"
            " others.")


def failed_urls_kept(examples: str) -> str:
    return (f"these URLs failed but are in the result: {examples}. Leave out every answer that is not"
            " 2xx (check response.is_success or call response.raise_for_status()) and pass the timeout"
            " to httpx, so that a late answer raises httpx.TimeoutException.")


def wrong_body(count: int, url: str, got: bytes, expected: bytes) -> str:
    return (f"wrong body for {count} URL(s), e.g. {url}: got {len(got)} bytes starting {got[:12]!r},"
            f" expected {len(expected)} bytes starting {expected[:12]!r}. Return response.content, the"
            " raw bytes.")


def no_value_error(call: str, returned: str) -> str:
    """`call` describes the call, e.g. "download_all(0 URLs, max_concurrent=0)"."""
    return f"{call} returned a {returned} instead of raising ValueError: check max_concurrent < 1 before anything else"


def no_value_error_deadlock(call: str) -> str:
    return (f"deadlock: {call} never returned: with no free slot every request waits forever. Check"
            " max_concurrent first and raise ValueError.")


def batches(slow_seconds: float, beside: int, slow_count: int, max_concurrent: int, quick_count: int) -> str:
    """Nothing outside a slow URL's batch ran beside it: the batch waited for its slowest member."""
    return (f"sliding window broken: while a slow URL took {slow_seconds:g} s, at most {beside} other"
            f" requests ran beside it, although only {slow_count} of the max_concurrent={max_concurrent}"
            f" slots held slow URLs and {quick_count} quick URLs were to fetch. This looks like batches of"
            f" {max_concurrent} that wait for their slowest member: let every URL wait for a free slot on"
            " its own (a thread per URL with a semaphore, or a pool of max_concurrent threads), so that a"
            " finished download's slot goes to the next URL at once.")


def failure_stops_everything(error_type: str) -> str:
    return (f"one failing URL stopped everything: download_all() raised {error_type}. Catch"
            " httpx.HTTPError around each request and leave that URL out; the other downloads must go on.")


def timeout_ignored(timeout: float, seconds: float, slowest_good: float) -> str:
    """The call outlasted its timeout by far, typically because httpx never got the timeout."""
    return (f"download_all(..., timeout={timeout:g}) took {seconds:.1f} s although its slowest good URL"
            f" answers within {slowest_good:g} s: a URL that has not answered after {timeout:g} s must be"
            " given up then. Pass the timeout to httpx.")


def timeout_ignored_or_slots_lost(timeout: float, seconds: float, failing: int, max_concurrent: int,
                                  slowest_good: float) -> str:
    """The call is still running, so either the timeout or a lost slot holds it up."""
    return (f"download_all(..., timeout={timeout:g}) had not returned after {seconds:g} s with {failing}"
            f" failing URLs and max_concurrent={max_concurrent}, although its slowest good URL answers"
            f" within {slowest_good:g} s. Either a URL that had not answered after {timeout:g} s was not"
            " given up then (pass the timeout to httpx), or a failed request kept its slot and the"
            " remaining threads wait for one forever (hold the semaphore with `with semaphore:`).")


def slots_lost(failed: int, at_once: int, good: int, max_concurrent: int) -> str:
    """Fewer good URLs ran at once after failures than slots: each failure kept its slot."""
    return (f"slots lost: after {failed} failed requests at most {at_once} of the {good} good URLs were in"
            f" flight at once, with max_concurrent={max_concurrent}. Each failure took a slot away for"
            " good. A failed request must give its slot back: hold the semaphore with `with semaphore:`"
            " (or release it in a finally block), and catch the error inside the thread so that the"
            " thread, or the pool worker, goes on.")


def slots_lost_deadlock(failing: int, max_concurrent: int) -> str:
    return (f"deadlock: download_all() never returned with {failing} failing URLs and"
            f" max_concurrent={max_concurrent}. A failed request kept its slot; once every slot was gone,"
            " the remaining threads waited forever. Hold the semaphore with `with semaphore:` (or release"
            " it in a finally block).")
