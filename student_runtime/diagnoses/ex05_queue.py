"""Diagnoses of exercises/05_queue: the mistakes a thread pool fed from a queue.Queue invites."""

from __future__ import annotations

from collections.abc import Sequence

EXCEPTION_ENDS_WORKER = ("an exception that escapes a task ends its worker thread, and its task is never"
                         " marked done. Catch Exception around each task, store it as that task's result,"
                         " and keep the worker going.")


def join_before_tasks_finished(finished: int, total: int) -> str:
    """join() waited for an empty queue, not for the tasks the workers were still running."""
    return (f"join() returned when only {finished} of {total} tasks had finished: an empty queue does not"
            " mean the tasks are done, since the workers may still be running the last ones. Wait until"
            " every task has finished (queue.Queue's task_done() and join() count them for you).")


def results_out_of_order(in_completion_order: bool, differences: str) -> str:
    """join()'s results are all there, in another order; `differences` shows a few positions."""
    cause = "the order in which the tasks finished" if in_completion_order else "another order"
    return (f"results in the wrong order: join() must return them in submission order, but they came back"
            f" in {cause} ({differences}). Put the task's index on the queue with it and store each"
            " result at that index.")


def join_batch_wrong(number: int, count: int, differences: str, earlier_returned: bool) -> str:
    """The `number`-th join() returned other results than those of its `count` tasks."""
    return (f"join() number {number} must return the results of the {count} tasks submitted since the"
            f" join() before it, and nothing else: {differences}."
            + (" Results of earlier batches were returned again: start a fresh list of results in join()."
               if earlier_returned else ""))


def not_fifo(order: Sequence[int]) -> str:
    """One worker ran queued tasks in another order than they were submitted."""
    return (f"ThreadPool(1) ran the tasks queued behind a busy worker in the order {list(order)}, expected"
            f" {sorted(order)}: the first task submitted must be the first to run (first in, first out)."
            " Use queue.Queue, not a LifoQueue or a list popped from its end.")


def thread_per_task(runners: int, tasks: int, n_workers: int) -> str:
    return (f"a new thread per task: {runners} different threads ran the {tasks} tasks of"
            f" ThreadPool({n_workers}). A pool starts its {n_workers} workers once, in __init__, and they"
            " take task after task from the queue.")


def workers_started_in_init(started: int, n_workers: int) -> str:
    return (f"ThreadPool({n_workers}) started {started} threads in __init__, expected exactly {n_workers}"
            " workers, started there and never again")


def tasks_not_concurrent(count: int, peak: int, n_workers: int) -> str:
    """Blocking tasks ran fewer at a time than there are workers, e.g. under a lock held while running."""
    return (f"not concurrent: {count} tasks that block were submitted, but only {peak} ran at the same"
            f" time on ThreadPool({n_workers}), expected {n_workers}. Every worker must take tasks on its"
            " own; do not hold a lock while a task runs.")


def busy_waiting(n_workers: int, used: float, seconds: float, allowed: float) -> str:
    return (f"busy waiting: an idle ThreadPool({n_workers}) used {used:.2f} s of CPU time in {seconds:g} s"
            f" ({used / seconds:.0%} of a core; allowed: {allowed:.0%}). Workers must wait in queue.get(),"
            " which blocks without using the CPU, not poll with get_nowait() in a loop.")


def exception_ends_worker(failed: int, count: int, n_workers: int) -> str:
    """join() hangs after failing tasks: their workers died and their tasks were never marked done."""
    return f"{failed} of {count} tasks raised on ThreadPool({n_workers}); {EXCEPTION_ENDS_WORKER}"


def every_worker_ended(when: str, n_workers: int) -> str:
    """`when` says which join(), e.g. "after 5 of 20 tasks raised"."""
    return (f"join() {when} on ThreadPool({n_workers}) waits forever: every worker thread had ended with"
            f" tasks still unfinished, so no thread is left to run them. Typically {EXCEPTION_ENDS_WORKER}")


def failure_stopped_worker(n_workers: int, differences: str) -> str:
    return (f"after tasks raised, the next tasks on ThreadPool({n_workers}) went wrong: {differences}."
            " A failing task must not stop its worker.")


def shutdown_dropped_tasks(finished: int, total: int, queued: int) -> str:
    return (f"shutdown() returned after only {finished} of {total} tasks had finished ({queued} waited in"
            " the queue when it was called): it must let the queued tasks finish and then join every"
            " worker thread")


def threads_alive_after_shutdown(names: Sequence[str]) -> str:
    return (f"threads still alive after shutdown() returned: {', '.join(names)}. shutdown() must stop"
            " every worker and join it before returning.")


def submit_after_shutdown(raised: str | None) -> str:
    """`raised` names the exception submit() raised after shutdown(), None if it raised nothing."""
    return (f"submit() after shutdown() {'raised ' + raised if raised else 'raised nothing'}: a pool that"
            " has been shut down has no workers left to run the task; raise RuntimeError")
