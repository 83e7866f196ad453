"""Diagnoses of exercises/08_futures: the mistakes executors and futures invite.

`call` is how a message names the call that went wrong, e.g. "run_all(<7 calls>, max_workers=3)";
`outcome` what it did, e.g. "raised ValueError('boom')".
"""

from __future__ import annotations

SHUT_DOWN_WITHOUT_WAITING = ("Leaving a `with ThreadPoolExecutor(...)` block waits for every call, and so"
                             " does concurrent.futures.wait() unless told return_when=FIRST_COMPLETED;"
                             " create the executor without `with`, take the futures from as_completed()"
                             " and end with executor.shutdown(wait=False, cancel_futures=True).")


def exception_escaped(call: str, outcome: str, culprit: int) -> str:
    """run_all() let the exception of calls[culprit] escape, typically from future.result()."""
    return (f"{call} {outcome}, the exception of calls[{culprit}], instead of returning it at position"
            f" {culprit} of the list: one failing call must not cost the other results."
            " future.exception() returns what a call raised without raising it.")


def results_in_completion_order(call: str, position: int, holds: str) -> str:
    return (f"{call}: the results are all there, but not in the order of the calls (position {position}"
            f" holds {holds}, the result of another call). They seem to be in the order the calls finished,"
            " which is what as_completed() gives. Keep the futures in a list in the order you submitted"
            " the calls and take the results from that list.")


def too_many_at_once(call: str, peak: int, max_workers: int) -> str:
    return (f"more than {max_workers} calls ran at once: {call} ran {peak} at the same time. Create the"
            " executor with ThreadPoolExecutor(max_workers=max_workers).")


def too_few_at_once(call: str, peak: int) -> str:
    return (f"{call} never ran more than {peak} calls at once: it should keep max_workers calls running in"
            " parallel, on one executor with max_workers threads.")


def waited_for_slow_calls(seconds: float, winner: int, answered_after: float, slow: int,
                          slow_seconds: float) -> str:
    """first_success() was still running long after calls[winner] had succeeded."""
    return (f"first_success was still running {seconds:.1f} s after it was called, although calls[{winner}]"
            f" succeeded after {answered_after:g} s: it waited for the {slow} slow calls ({slow_seconds:g} s"
            f" each). {SHUT_DOWN_WITHOUT_WAITING}")


def no_timeout_error(outcome: str, timeout: float) -> str:
    return (f"first_success {outcome}, but no call succeeded within timeout={timeout:g} s: raise"
            " TimeoutError (as_completed(futures, timeout=...) raises it for you).")


def timeout_error_late(seconds: float, timeout: float) -> str:
    """TimeoutError came, but only once the slow calls had ended."""
    return (f"first_success raised TimeoutError only after {seconds:.1f} s with timeout={timeout:g} s: it"
            " waited for the slow calls. Leaving a `with ThreadPoolExecutor(...)` block waits for every"
            " call; end with executor.shutdown(wait=False, cancel_futures=True) instead.")


def first_failure_reraised(outcome: str, first: int, first_after: float, story: str) -> str:
    """Every call failed, and first_success() raised the first failure, not the last."""
    return (f"first_success {outcome}, the exception of the first call to fail (calls[{first}] after"
            f" {first_after:.2f} s), but {story}. Remember each failure as the calls finish and raise the"
            " last one once no call is left.")


def not_picklable(call: str, outcome: str) -> str:
    return (f"{call} {outcome}: a process pool pickles the function it sends to its workers, and only a"
            " module-level function pickles. Hand fn itself to the executor, not a lambda or a function"
            " defined inside map_processes().")


def ran_in_calling_process(call: str) -> str:
    return (f"{call} ran every item in the calling process itself: threads share one process (and one"
            " GIL). Use a ProcessPoolExecutor.")
