"""The diagnoses shared by the visible tests and the hidden suites, pinned as golden text.

A student reads these words before the deadline and again in the grader's feedback, so a change
to one shows up here as a diff to review. Every public function of every diagnoses module is
pinned, each module is named after an exercise, and no message uses the grader's own jargon.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import student_runtime.diagnoses
from grader.manifest import load_exercises
from student_runtime.diagnoses import ex01_race_condition, ex02_lock, ex03_semaphore, ex04_event, ex05_queue, ex06_primes, ex07_scraper, ex08_futures

GOLDEN = [
    (ex03_semaphore.urls_missing,
     (2, 9, "http://127.0.0.1:8000/1 (answers 201); http://127.0.0.1:8000/4 (answers 200)"),
     '2 of the 9 URLs that answer 2xx are missing from the result: http://127.0.0.1:8000/1 '
     '(answers 201); http://127.0.0.1:8000/4 (answers 200). Every 2xx answer counts (200, 201, '
     '203, ...), and a URL that fails must never stop the others.'),
    (ex03_semaphore.failed_urls_kept, ("http://127.0.0.1:8000/2 (answers 404)",),
     'these URLs failed but are in the result: http://127.0.0.1:8000/2 (answers 404). Leave out '
     'every answer that is not 2xx (check response.is_success or call response.raise_for_status())'
     ' and pass the timeout to httpx, so that a late answer raises httpx.TimeoutException.'),
    (ex03_semaphore.wrong_body, (1, "http://127.0.0.1:8000/3", "h\u00e9llo".encode(), b"hello"),
     "wrong body for 1 URL(s), e.g. http://127.0.0.1:8000/3: got 6 bytes starting b'h\\xc3\\xa9llo',"
     " expected 5 bytes starting b'hello'. Return response.content, the raw bytes."),
    (ex03_semaphore.no_value_error, ("download_all(0 URLs, max_concurrent=0)", "dict"),
     'download_all(0 URLs, max_concurrent=0) returned a dict instead of raising ValueError: check '
     'max_concurrent < 1 before anything else'),
    (ex03_semaphore.no_value_error_deadlock, ("download_all(3 URLs, max_concurrent=0)",),
     'deadlock: download_all(3 URLs, max_concurrent=0) never returned: with no free slot every '
     'request waits forever. Check max_concurrent first and raise ValueError.'),
    (ex03_semaphore.batches, (1.0, 2, 1, 3, 12),
     'sliding window broken: while a slow URL took 1 s, at most 2 other requests ran beside it, '
     'although only 1 of the max_concurrent=3 slots held slow URLs and 12 quick URLs were to '
     'fetch. This looks like batches of 3 that wait for their slowest member: let every URL wait '
     'for a free slot on its own (a thread per URL with a semaphore, or a pool of max_concurrent '
     "threads), so that a finished download's slot goes to the next URL at once."),
    (ex03_semaphore.failure_stops_everything, ("ConnectError",),
     'one failing URL stopped everything: download_all() raised ConnectError. Catch '
     'httpx.HTTPError around each request and leave that URL out; the other downloads must go on.'),
    (ex03_semaphore.timeout_ignored, (0.5, 5.2, 0.2),
     'download_all(..., timeout=0.5) took 5.2 s although its slowest good URL answers within 0.2 '
     's: a URL that has not answered after 0.5 s must be given up then. Pass the timeout to httpx.'),
    (ex03_semaphore.timeout_ignored_or_slots_lost, (0.5, 4.0, 5, 3, 0.2),
     'download_all(..., timeout=0.5) had not returned after 4 s with 5 failing URLs and '
     'max_concurrent=3, although its slowest good URL answers within 0.2 s. Either a URL that had '
     'not answered after 0.5 s was not given up then (pass the timeout to httpx), or a failed '
     'request kept its slot and the remaining threads wait for one forever (hold the semaphore '
     'with `with semaphore:`).'),
    (ex03_semaphore.slots_lost, (4, 1, 6, 3),
     'slots lost: after 4 failed requests at most 1 of the 6 good URLs were in flight at once, '
     'with max_concurrent=3. Each failure took a slot away for good. A failed request must give '
     'its slot back: hold the semaphore with `with semaphore:` (or release it in a finally block),'
     ' and catch the error inside the thread so that the thread, or the pool worker, goes on.'),
    (ex03_semaphore.slots_lost_deadlock, (5, 2),
     'deadlock: download_all() never returned with 5 failing URLs and max_concurrent=2. A failed '
     'request kept its slot; once every slot was gone, the remaining threads waited forever. Hold '
     'the semaphore with `with semaphore:` (or release it in a finally block).'),
    (ex04_event.first_beat_at_once, (0.0123, 0.6543),
     'first beat at once: it came 0.01 s after start() was called, but the interval is 0.65 s. '
     'Wait one interval first, then call the callback.'),
    (ex04_event.too_many_beats, (14, 1.2345, 0.1, 12),
     'too many beats: the callback ran 14 times in 1.23 s with an interval of 0.100 s, at most 12 '
     'fit. Beat once per interval, not more often.'),
    (ex04_event.too_few_beats, (3, 1.2, 0.1, 7),
     'too few beats: the callback ran 3 times in 1.20 s with an interval of 0.100 s; expected '
     'about 12 (at least 7). Each beat should follow the previous one after one interval.'),
    (ex04_event.beat_counted_too_early, (2, 2),
     'beat counted too early: beats was 2 while the 2nd callback was still running, so only 1 had '
     'completed. Add one after callback() returns.'),
    (ex04_event.beats_miscounted, (5, 4),
     'after stop() beats was 5, but the callback had completed 4 times'),
    (ex04_event.stop_not_returned, (1.0, 9.73),
     'stop() had not returned 1.0 s after it was called, with an interval of 9.7 s. Does it wait '
     'out the interval? time.sleep() cannot be cut short; wait with Event.wait(interval) instead, '
     'which returns as soon as stop() sets the event.'),
    (ex04_event.callback_running_after_stop, ("slow", 1, 0),
     'the callback was still running when stop() returned (a slow callback, 1 started, 0 '
     'finished). After setting the event, stop() must wait for the thread to end: join it.'),
    (ex04_event.beats_after_stop, (7, 0.5),
     'the heartbeat kept beating after stop() returned: 7 more callbacks in the next 0.5 s. stop()'
     ' must end the thread; a daemon thread only ends with the whole program.'),
    (ex04_event.busy_waiting, (0.77, 1.04, 0.05),
     'busy waiting: between beats your heartbeat used 77% of a CPU core for 1.0 s (at most 5% '
     'allowed). A loop that keeps checking the clock or a flag burns a core; block in '
     'Event.wait(timeout) instead.'),
    (ex04_event.start_twice_accepted, (),
     'start() twice was accepted: the second call should raise RuntimeError (a heartbeat runs one '
     'thread and starts once)'),
    (ex04_event.call_raised, (["start", "start", "stop"], 1, "ValueError", "already running"),
     'in the sequence start(), start(), stop(), the 2nd call (start()) raised ValueError: already '
     'running'),
    (ex04_event.stop_not_safe, (["stop", "stop"], 0, "RuntimeError", "cannot join thread before it is started"),
     'in the sequence stop(), stop(), the 1st call (stop()) raised RuntimeError: cannot join '
     'thread before it is started. stop() must be safe to call before start() and more than once: '
     'only wait for a thread that is running.'),
    (ex04_event.ordinal, (3,),
     '3rd'),
    (ex04_event.ordinal, (12,),
     '12th'),
    (ex04_event.ordinal, (22,),
     '22nd'),
    (ex05_queue.join_before_tasks_finished, (6, 8),
     'join() returned when only 6 of 8 tasks had finished: an empty queue does not mean the tasks '
     'are done, since the workers may still be running the last ones. Wait until every task has '
     "finished (queue.Queue's task_done() and join() count them for you)."),
    (ex05_queue.results_out_of_order, (True, "result 0 was 7, expected 0; result 1 was 6, expected 1"),
     'results in the wrong order: join() must return them in submission order, but they came back '
     'in the order in which the tasks finished (result 0 was 7, expected 0; result 1 was 6, '
     "expected 1). Put the task's index on the queue with it and store each result at that index."),
    (ex05_queue.results_out_of_order, (False, "result 2 was 3, expected 2"),
     'results in the wrong order: join() must return them in submission order, but they came back '
     "in another order (result 2 was 3, expected 2). Put the task's index on the queue with it and"
     ' store each result at that index.'),
    (ex05_queue.join_batch_wrong, (2, 1, "it returned ['A', 'B', 'C', 'D'], expected ['D']", True),
     'join() number 2 must return the results of the 1 tasks submitted since the join() before it,'
     " and nothing else: it returned ['A', 'B', 'C', 'D'], expected ['D']. Results of earlier "
     'batches were returned again: start a fresh list of results in join().'),
    (ex05_queue.join_batch_wrong, (3, 0, "join() returned None", False),
     'join() number 3 must return the results of the 0 tasks submitted since the join() before it,'
     ' and nothing else: join() returned None.'),
    (ex05_queue.not_fifo, ([0, 4, 3, 2, 1],),
     'ThreadPool(1) ran the tasks queued behind a busy worker in the order [0, 4, 3, 2, 1], '
     'expected [0, 1, 2, 3, 4]: the first task submitted must be the first to run (first in, first'
     ' out). Use queue.Queue, not a LifoQueue or a list popped from its end.'),
    (ex05_queue.thread_per_task, (9, 9, 3),
     'a new thread per task: 9 different threads ran the 9 tasks of ThreadPool(3). A pool starts '
     'its 3 workers once, in __init__, and they take task after task from the queue.'),
    (ex05_queue.workers_started_in_init, (0, 3),
     'ThreadPool(3) started 0 threads in __init__, expected exactly 3 workers, started there and '
     'never again'),
    (ex05_queue.tasks_not_concurrent, (3, 1, 3),
     'not concurrent: 3 tasks that block were submitted, but only 1 ran at the same time on '
     'ThreadPool(3), expected 3. Every worker must take tasks on its own; do not hold a lock while'
     ' a task runs.'),
    (ex05_queue.busy_waiting, (2, 0.55, 0.6, 0.1),
     'busy waiting: an idle ThreadPool(2) used 0.55 s of CPU time in 0.6 s (92% of a core; '
     'allowed: 10%). Workers must wait in queue.get(), which blocks without using the CPU, not '
     'poll with get_nowait() in a loop.'),
    (ex05_queue.exception_ends_worker, (3, 6, 2),
     '3 of 6 tasks raised on ThreadPool(2); an exception that escapes a task ends its worker '
     'thread, and its task is never marked done. Catch Exception around each task, store it as '
     "that task's result, and keep the worker going."),
    (ex05_queue.every_worker_ended, ("after 5 of 20 tasks raised", 2),
     'join() after 5 of 20 tasks raised on ThreadPool(2) waits forever: every worker thread had '
     'ended with tasks still unfinished, so no thread is left to run them. Typically an exception '
     'that escapes a task ends its worker thread, and its task is never marked done. Catch '
     "Exception around each task, store it as that task's result, and keep the worker going."),
    (ex05_queue.failure_stopped_worker, (2, "it returned [], expected [8]"),
     'after tasks raised, the next tasks on ThreadPool(2) went wrong: it returned [], expected '
     '[8]. A failing task must not stop its worker.'),
    (ex05_queue.shutdown_dropped_tasks, (4, 10, 6),
     'shutdown() returned after only 4 of 10 tasks had finished (6 waited in the queue when it was'
     ' called): it must let the queued tasks finish and then join every worker thread'),
    (ex05_queue.threads_alive_after_shutdown, (["Thread-1", "Thread-2"],),
     'threads still alive after shutdown() returned: Thread-1, Thread-2. shutdown() must stop '
     'every worker and join it before returning.'),
    (ex05_queue.submit_after_shutdown, (None,),
     'submit() after shutdown() raised nothing: a pool that has been shut down has no workers left'
     ' to run the task; raise RuntimeError'),
    (ex05_queue.submit_after_shutdown, ("ValueError",),
     'submit() after shutdown() raised ValueError: a pool that has been shut down has no workers '
     'left to run the task; raise RuntimeError'),
    (ex08_futures.exception_escaped,
     ("run_all(<4 calls>, max_workers=4)", "raised ValueError('raised by calls[1]')", 1),
     "run_all(<4 calls>, max_workers=4) raised ValueError('raised by calls[1]'), the exception of "
     'calls[1], instead of returning it at position 1 of the list: one failing call must not cost '
     'the other results. future.exception() returns what a call raised without raising it.'),
    (ex08_futures.results_in_completion_order, ("run_all(<4 calls>, max_workers=4)", 0, "42"),
     'run_all(<4 calls>, max_workers=4): the results are all there, but not in the order of the '
     'calls (position 0 holds 42, the result of another call). They seem to be in the order the '
     'calls finished, which is what as_completed() gives. Keep the futures in a list in the order '
     'you submitted the calls and take the results from that list.'),
    (ex08_futures.too_many_at_once, ("run_all(<7 calls>, max_workers=3)", 7, 3),
     'more than 3 calls ran at once: run_all(<7 calls>, max_workers=3) ran 7 at the same time. '
     'Create the executor with ThreadPoolExecutor(max_workers=max_workers).'),
    (ex08_futures.too_few_at_once, ("run_all(<7 calls>, max_workers=3)", 1),
     'run_all(<7 calls>, max_workers=3) never ran more than 1 calls at once: it should keep '
     'max_workers calls running in parallel, on one executor with max_workers threads.'),
    (ex08_futures.waited_for_slow_calls, (1.0, 1, 0.1, 2, 3.0),
     'first_success was still running 1.0 s after it was called, although calls[1] succeeded after'
     ' 0.1 s: it waited for the 2 slow calls (3 s each). Leaving a `with ThreadPoolExecutor(...)` '
     'block waits for every call, and so does concurrent.futures.wait() unless told '
     'return_when=FIRST_COMPLETED; create the executor without `with`, take the futures from '
     'as_completed() and end with executor.shutdown(wait=False, cancel_futures=True).'),
    (ex08_futures.no_timeout_error, ("returned None", 0.3),
     'first_success returned None, but no call succeeded within timeout=0.3 s: raise TimeoutError '
     '(as_completed(futures, timeout=...) raises it for you).'),
    (ex08_futures.timeout_error_late, (4.1, 0.45),
     'first_success raised TimeoutError only after 4.1 s with timeout=0.45 s: it waited for the '
     'slow calls. Leaving a `with ThreadPoolExecutor(...)` block waits for every call; end with '
     'executor.shutdown(wait=False, cancel_futures=True) instead.'),
    (ex08_futures.first_failure_reraised,
     ("raised ValueError('fails first')", 0, 0.1,
      "every call failed, the last one was calls[1], which raised LookupError('x') after 0.40 s"),
     "first_success raised ValueError('fails first'), the exception of the first call to fail "
     '(calls[0] after 0.10 s), but every call failed, the last one was calls[1], which raised '
     "LookupError('x') after 0.40 s. Remember each failure as the calls finish and raise the last "
     'one once no call is left.'),
    (ex08_futures.not_picklable,
     ("map_processes(square_and_pid, <8 items>, max_workers=3)",
      "raised PicklingError(\"Can't pickle <function <lambda>>\")"),
     'map_processes(square_and_pid, <8 items>, max_workers=3) raised PicklingError("Can\'t pickle '
     '<function <lambda>>"): a process pool pickles the function it sends to its workers, and only'
     ' a module-level function pickles. Hand fn itself to the executor, not a lambda or a function'
     ' defined inside map_processes().'),
    (ex08_futures.ran_in_calling_process, ("map_processes(fn, <7 items>, max_workers=3) under spawn",),
     'map_processes(fn, <7 items>, max_workers=3) under spawn ran every item in the calling '
     'process itself: threads share one process (and one GIL). Use a ProcessPoolExecutor.'),
    (ex07_scraper.wrong_titles,
     ('scrape_threaded(7 URLs, workers=3)',
      [('mixed_case', None, 'Upper case'),
       ('entities', 'Fish &amp; chips', 'Fish & chips'),
       ('no_title', '', None)]),
     'wrong titles from scrape_threaded(7 URLs, workers=3):\n- a <title> tag in upper or mixed '
     "case: got None, expected 'Upper case'. Tag names are case-insensitive: match <TITLE> and "
     '<Title> too (re.IGNORECASE).\n- a title with HTML entities (&amp; &lt; &#39; &eacute; ...): '
     "got 'Fish &amp; chips', expected 'Fish & chips'. Decode the entities with "
     "html.unescape().\n- a page without a <title>: got '', expected None. A page without a title "
     'gives None.'),
    (ex07_scraper.wrong_titles,
     ('scrape_sequential(7 URLs)',
      [('plain', None, 'Plain'),
       ('attributes', None, 'With attributes'),
       ('whitespace', '\n  Spaced out\n', 'Spaced out'),
       ('second_title', 'First</title><title>Second', 'First')]),
     "wrong titles from scrape_sequential(7 URLs):\n- a plain <title>: got None, expected 'Plain'. "
     'Search the page for <title>...</title>.\n- a <title> tag with attributes: got None, expected '
     "'With attributes'. The opening tag may carry attributes: accept anything up to its '>', as "
     "<title[^>]*> does.\n- a title surrounded by newlines and spaces: got '\\n  Spaced out\\n', "
     "expected 'Spaced out'. Strip the whitespace around the text; in a regular expression '.' "
     'only crosses newlines with re.DOTALL.\n- a page with a second <title> further down: got '
     "'First</title><title>Second', expected 'First'. Take the first title only: a greedy '.*' "
     "runs on to the last </title>; use '.*?'."),
    (ex07_scraper.failures_mixed_up,
     ('scrape_threaded(6 URLs, workers=3)',
      [('404', 'Not found'), ('500', 'Server error'), ('refused', 'x'), ('hangs_up', 'y')],
      [(None, 'Fine')]),
     'scrape_threaded(6 URLs, workers=3) mixed up failures and pages:\n- a page answered with '
     "status 404: got 'Not found', expected None. A status of 400 or more is an error page, "
     'whatever its <title> says: check response.status_code (or call response.raise_for_status() '
     "inside the try).\n- a page answered with status 500: got 'Server error', expected None. A "
     'status of 400 or more is an error page, whatever its <title> says: check '
     'response.status_code (or call response.raise_for_status() inside the try).\n- a URL where '
     "the connection is refused: got 'x', expected None. Catch httpx.HTTPError around the request "
     "and record None.\n- a server that hangs up without answering: got 'y', expected None. Catch "
     'httpx.HTTPError around the request and record None.\n- a good page among the failures: got '
     "None, expected 'Fine'. One failure must not stop the other URLs."),
    (ex07_scraper.raised_instead_of_dict,
     ('scrape_sequential(6 URLs)', 'ConnectError: [Errno 111] Connection refused'),
     'scrape_sequential(6 URLs) raised an exception instead of returning its dict: ConnectError: '
     '[Errno 111] Connection refused\nOne URL must never stop the others: when a request fails or '
     'a page has no title, record None for that URL and go on.'),
    (ex07_scraper.entries_missing,
     ('scrape_threaded(6 URLs, workers=3)', 2, 6, 'http://127.0.0.1:8000/broken'),
     'scrape_threaded(6 URLs, workers=3) returned no entry for 2 of the 6 URLs (e.g. '
     'http://127.0.0.1:8000/broken): every URL needs one, None when its request failed. Did an '
     'exception end a thread?'),
    (ex07_scraper.requested_more_than_once,
     ('scrape_threaded(5 URLs, workers=4)',
      ['http://127.0.0.1:8000/a 2 times', 'http://127.0.0.1:8000/b 3 times']),
     'scrape_threaded(5 URLs, workers=4) requested the same URL more than once: '
     'http://127.0.0.1:8000/a 2 times, http://127.0.0.1:8000/b 3 times. Fetch each URL exactly '
     'once; the requests in flight at the same time must be for different pages.'),
    (ex07_scraper.too_many_in_flight, ('scrape_threaded(6 URLs, workers=3)', 6, 3),
     'more than 3 requests in flight: the server saw 6 at once during scrape_threaded(6 URLs, '
     'workers=3). Run exactly `workers` threads (for example '
     "ThreadPoolExecutor(max_workers=workers)), not one thread per URL nor the executor's default "
     'number.'),
    (ex07_scraper.too_few_in_flight, ('scrape_threaded(6 URLs, workers=3)', 1, 3, 0.5),
     'only 1 page(s) requested at once during scrape_threaded(6 URLs, workers=3), expected 3: the '
     'threads did not wait for the server together (each page takes 0.5 s to answer). Start every '
     'thread before joining any, and hold no lock around the request.'),
    (ex07_scraper.not_faster, (3, 0.5, 1.62, 1.58, 3, 1, 1.5, 2),
     'not faster: 3 pages that each take 0.5 s to answer took 1.62 s fetched one after another and '
     '1.58 s with scrape_threaded(workers=3) (at most 1 in flight at once), a speedup of 1.03x; '
     'ideal is 3x, the bar 1.5x (best of 2 rounds). The threads must wait for the network at the '
     'same time: start them all before joining any, and hold no lock around the request.'),
    (ex07_scraper.not_faster, (3, 0.5, 1.62, 1.58, 3, 1, 1.5),
     'not faster: 3 pages that each take 0.5 s to answer took 1.62 s fetched one after another and '
     '1.58 s with scrape_threaded(workers=3) (at most 1 in flight at once), a speedup of 1.03x; '
     'ideal is 3x, the bar 1.5x. The threads must wait for the network at the same time: start '
     'them all before joining any, and hold no lock around the request.'),
    (ex02_lock.deadlock_remedy, (None,),
     'A lock taken with a bare acquire() stays held when an exception skips its release(): take it '
     'with `with lock:`, which releases it on every way out.'),
    (ex02_lock.deadlock_remedy, (1,),
     'A thread waits for a lock that nobody will release: a lock still held after an exception '
     '(take it with `with lock:`, which releases it on every way out), or a method that takes a '
     'lock it already holds (threading.Lock is not reentrant).'),
    (ex02_lock.deadlock_remedy, (2,),
     'Acquire the locks of a transfer in one global order (for example sorted by account name) or '
     'use one lock for the whole bank.'),
    (ex02_lock.threads_still_waiting, (2, 3, 5.0),
     'deadlock: 2 of 3 threads were still waiting after 5 s. A thread waits for a lock that nobody '
     'will release: a lock still held after an exception (take it with `with lock:`, which '
     'releases it on every way out), or a method that takes a lock it already holds '
     '(threading.Lock is not reentrant). Or two transfers each held one lock and waited for the '
     "other's forever. Acquire the locks of a transfer in one global order (for example sorted by "
     'account name) or use one lock for the whole bank.'),
    (ex02_lock.should_raise,
     ("with the balances {'alice': 100, 'bob': 50}",
      "transfer('alice', 'bob', -5)",
      'ValueError',
      'returned without an error'),
     "with the balances {'alice': 100, 'bob': 50}, transfer('alice', 'bob', -5) should raise "
     'ValueError, but it returned without an error'),
    (ex02_lock.refused_but_changed,
     ("with the balances {'alice': 100, 'bob': 50}",
      "transfer('alice', 'bob', 101)",
      'InsufficientFunds',
      {'alice': -1, 'bob': 50}),
     "with the balances {'alice': 100, 'bob': 50}, transfer('alice', 'bob', 101) raised "
     "InsufficientFunds as it should, but changed the balances to {'alice': -1, 'bob': 50}. Check "
     'everything first; move money only once the transfer cannot fail.'),
    (ex02_lock.unknown_account_opened, ("transfer('alice', 'nobody', 10)", 'nobody', 'returned 10'),
     "after transfer('alice', 'nobody', 10), balance('nobody') should still raise KeyError, but it "
     'returned 10: an unknown account has no balance, and a failed call must not open it'),
    (ex02_lock.next_call_failed,
     ("transfer('alice', 'bob', 101)",
      'InsufficientFunds',
      "transfer('alice', 'bob', 1)",
      'raised RuntimeError'),
     "after transfer('alice', 'bob', 101) raised InsufficientFunds, the next call "
     "transfer('alice', 'bob', 1) raised RuntimeError"),
    (ex02_lock.next_call_wrong_balances,
     ("transfer('alice', 'bob', 0)",
      'ValueError',
      "transfer('alice', 'bob', 1)",
      {'alice': 100, 'bob': 50},
      {'alice': 99, 'bob': 51}),
     "after transfer('alice', 'bob', 0) raised ValueError, the next call transfer('alice', 'bob', "
     "1) left the balances at {'alice': 100, 'bob': 50}, expected {'alice': 99, 'bob': 51}"),
    (ex02_lock.negative_opening_accepted, ({'alice': 10, 'bob': -1}, 'returned a Bank'),
     "Bank({'alice': 10, 'bob': -1}) should raise ValueError, but it returned a Bank"),
    (ex02_lock.transfer_refused, ("transfer('bob', 'carol', 80)", 'raised KeyError', 'bob', 80, 'carol', 0),
     "transfer('bob', 'carol', 80) raised KeyError although 'bob' held 80 and 'carol' held 0: both "
     'accounts exist, and an account holding 0 is an account too'),
    (ex02_lock.transfer_refused,
     ("transfer('bob', 'carol', 80)", 'raised InsufficientFunds', 'bob', 80, 'carol', 0),
     "transfer('bob', 'carol', 80) raised InsufficientFunds although 'bob' held 80 and 'carol' "
     'held 0: moving all the money an account holds is allowed'),
    (ex02_lock.transfer_refused,
     ("transfer('bob', 'carol', 8)", 'raised ZeroDivisionError', 'bob', 80, 'carol', 0),
     "transfer('bob', 'carol', 8) raised ZeroDivisionError although 'bob' held 80 and 'carol' held "
     '0'),
    (ex02_lock.wrong_balances_after,
     ("transfer('alice', 'bob', 30)", {'alice': 70, 'bob': 50}, {'alice': 70, 'bob': 80}),
     "after transfer('alice', 'bob', 30) the balances were {'alice': 70, 'bob': 50}, expected "
     "{'alice': 70, 'bob': 80}"),
    (ex02_lock.wrong_total, ({'alice': 100, 'bob': 50}, 2, 'returned 140', 150),
     "after Bank({'alice': 100, 'bob': 50}) and 2 transfers, total() returned 140, expected 150"),
    (ex02_lock.wrong_total, ({}, 0, 'returned None', 0),
     'Bank({}).total() returned None, expected 0: the sum of no balances'),
    (ex02_lock.wrong_balance, ("balance('alice')", "returned '70'", 70),
     "balance('alice') returned '70', expected 70"),
    (ex06_primes.why, (-3, None),
     '-3 is not prime: no number below 2 is'),
    (ex06_primes.why, (97, None),
     '97 is prime'),
    (ex06_primes.why, (91, 7),
     '91 = 7 * 13 is not prime'),
    (ex06_primes.wrong_flag, (25, 'returned True', 5),
     'is_prime(25) returned True: 25 = 5 * 5 is not prime'),
    (ex06_primes.wrong_flag, (-1, 'raised ValueError: isqrt() argument must be nonnegative', None),
     'is_prime(-1) raised ValueError: isqrt() argument must be nonnegative: -1 is not prime: no '
     'number below 2 is'),
    (ex06_primes.wrong_entry, ('check_threads(<48 numbers>, 3)', 2, False, None),
     'check_threads(<48 numbers>, 3)[2] is False: 2 is prime'),
    (ex06_primes.not_a_dict, ('check_sequential(<48 numbers>)', 'list'),
     'check_sequential(<48 numbers>) returned a list, expected a dict {number: bool}'),
    (ex06_primes.missing_entry, ('check_processes(<48 numbers>, 3)', 7),
     'check_processes(<48 numbers>, 3) has no entry for 7'),
    (ex06_primes.unexpected_key, ('check_threads(<48 numbers>, 3)', '7'),
     'check_threads(<48 numbers>, 3) has a key 7 that is not one of the numbers it was given'),
    (ex06_primes.edge_advice, (True, True, True, True),
     'Numbers below 2 (1, 0 and all negative numbers) are not prime. 2 and 3 are prime although '
     'the range of divisors to try is empty for them. A number like 25 = 5 * 5 has no divisor '
     'below its square root: the divisors tried must include isqrt(n) itself, as in range(2, '
     "math.isqrt(n) + 1). Carmichael numbers such as 561 = 3 * 11 * 17 pass Fermat's test but are "
     'not prime: use trial division.'),
    (ex06_primes.edge_advice, (False, False, False, False),
     ''),
    (ex06_primes.problems, ('is_prime is wrong', ['a', 'b', 'c'], 'Mind the edges.', 2),
     'is_prime is wrong:\n  a\n  b\n  ... and 1 more\nMind the edges.'),
    (ex06_primes.problems,
     ('wrong result', ['check_sequential(<3 numbers>)[25] is True: 25 = 5 * 5 is not prime']),
     'wrong result:\n  check_sequential(<3 numbers>)[25] is True: 25 = 5 * 5 is not prime'),
    (ex06_primes.too_slow, (30, 332),
     'too slow: is_prime needed more than 30 s for 332 numbers up to 10**12. Trial division only '
     'has to try divisors up to the square root of n.'),
    (ex06_primes.not_a_thread_pool, (3, 60, 12),
     'not a pool of 3 threads: 60 different threads called is_prime, up to 12 at once. Create 3 '
     'threads once and let each check many numbers, for example with '
     'ThreadPoolExecutor(max_workers=workers).'),
    (ex06_primes.not_a_thread_pool, (3, 60),
     'not a pool of 3 threads: 60 different threads called is_prime. Create 3 threads once and let '
     'each check many numbers, for example with ThreadPoolExecutor(max_workers=workers).'),
    (ex06_primes.threads_not_concurrent, (4, 1),
     'not concurrent: at most 1 of the 4 pool threads were checking a number at the same time. '
     'Hand all the numbers to the pool before waiting for any result (pool.map, or submit '
     'everything first and collect the results afterwards).'),
    (ex06_primes.threads_not_concurrent, (3,),
     'not concurrent: the 3 pool threads were never all checking a number at the same time. Hand '
     'all the numbers to the pool before waiting for any result (pool.map, or submit everything '
     'first and collect the results afterwards).'),
    (ex06_primes.start_method_advice,
     ('spawn', "AttributeError: Can't pickle local object 'check_processes.<locals>.<lambda>'"),
     'The pool could not pickle the function it was given: hand it a function defined at the top '
     'level of primes.py, such as is_prime, not a lambda or a function defined inside '
     'check_processes.'),
    (ex06_primes.start_method_advice, ('forkserver', 'IndexError: list index out of range'),
     "Under 'forkserver' every worker process imports primes.py afresh and sees none of what the "
     'parent did after importing it: module globals set in check_processes before creating the '
     'pool are not there. Pass everything a worker needs as arguments.'),
    (ex06_primes.start_method_advice, ('fork', ''),
     ''),
    (ex06_primes.processes_failed,
     ("check_processes(<30 numbers>, 2) under the 'spawn' start method",
      'IndexError: list index out of range',
      'spawn'),
     "check_processes(<30 numbers>, 2) under the 'spawn' start method failed: IndexError: list "
     "index out of range\nUnder 'spawn' every worker process imports primes.py afresh and sees "
     'none of what the parent did after importing it: module globals set in check_processes before '
     'creating the pool are not there. Pass everything a worker needs as arguments.'),
    (ex06_primes.not_in_worker_processes, (400, 400, [17, 4, 99], 400),
     'no worker processes checked 400 of the 400 numbers (e.g. 17, 4, 99): check_processes must '
     'run is_prime on them in a pool of worker processes, for example '
     'ProcessPoolExecutor(max_workers=workers).map(is_prime, numbers). 400 is_prime calls ran in '
     'the process that called check_processes; threads share its GIL and cannot check numbers in '
     'parallel.'),
    (ex06_primes.workers_not_busy_at_once, (3, 1, 3, 'fork'),
     'not 3 workers at once: at most 1 worker processes were checking numbers at the same time, 3 '
     "in all (start method 'fork'). Create one pool of exactly `workers` processes and hand it all "
     'the numbers at once, with pool.map(is_prime, numbers); waiting for each result before '
     'submitting the next number, or a new pool per number, makes the workers take turns.'),
    (ex06_primes.no_real_speedup,
     ('your speedup 1.01x (0.40 s of work one after another, done in 0.40 s); the reference reached '
      '1.90x',
      2),
     'no real speedup: your speedup 1.01x (0.40 s of work one after another, done in 0.40 s); the '
     'reference reached 1.90x. check_processes must keep all 2 worker processes busy at once. '
     'Threads share one GIL and give no speedup on CPU work; a process pool used one call at a '
     'time (apply(), or submit(...).result() inside the loop) or with a single worker runs the '
     'numbers one after another; and a new pool for every number spends its time starting '
     'processes.'),
    (ex01_race_condition.spelled, (None,),
     'increment()'),
    (ex01_race_condition.spelled, (-3,),
     'increment(-3)'),
    (ex01_race_condition.what_increment_adds, (None,),
     'increment() without an amount adds 1.'),
    (ex01_race_condition.what_increment_adds, (0,),
     'increment(amount) adds the amount, whatever int it is: 0 and negative ones too.'),
    (ex01_race_condition.new_counter_not_zero, (None,),
     'a new Counter() has the value None, expected 0'),
    (ex01_race_condition.increment_wrong, (5, 1, 2, 6, 'Counter(), then increment(), increment(5)'),
     'increment(5) took the value from 1 to 2, expected 6. increment(amount) adds the amount, '
     'whatever int it is: 0 and negative ones too. (The calls, in this order: Counter(), then '
     'increment(), increment(5).)'),
    (ex01_race_condition.increment_wrong, (None, 0, 0, 1, 'Counter(), then increment()'),
     'increment() took the value from 0 to 0, expected 1. increment() without an amount adds 1. '
     '(The calls, in this order: Counter(), then increment().)'),
    (ex01_race_condition.increment_raised,
     (-2, "ValueError('the amount must be positive')", 'Counter(), then increment(3), increment(-2)'),
     "increment(-2) raised ValueError('the amount must be positive'). increment(amount) adds the "
     'amount, whatever int it is: 0 and negative ones too. (The calls, in this order: Counter(), '
     'then increment(3), increment(-2).)'),
    (ex01_race_condition.wrong_total, (4, 1000, 3000),
     'count_in_threads(4, 1000) returned 3000, expected 4 x 1000 = 4000'),
    (ex01_race_condition.too_few_threads, (40, 50, 12),
     'count_in_threads(40, 50) called increment() from 12 different threads, expected 40: start '
     'n_threads threads (a thread pool with fewer threads makes the rest of the work wait its '
     'turn)'),
    (ex01_race_condition.too_few_threads, (3, 50, 1),
     'count_in_threads(3, 50) called increment() from 1 different thread, expected 3: start '
     'n_threads threads (a thread pool with fewer threads makes the rest of the work wait its '
     'turn)'),
    (ex01_race_condition.threads_one_after_another, (5, 50, 1),
     "not concurrent: at most 1 of count_in_threads(5, 50)'s 5 threads were running at once. Start "
     'every thread first, then join them in a second loop.'),
]
JARGON = re.compile(r"\b(probe|sandbox|seed|mutant|schedule)s?\b", re.IGNORECASE)
MODULES = [importlib.import_module(f"{student_runtime.diagnoses.__name__}.{info.name}")
           for info in pkgutil.iter_modules(student_runtime.diagnoses.__path__)]


@pytest.mark.parametrize(("diagnosis", "facts", "expected"), GOLDEN,
                         ids=[f"{function.__module__.rsplit('.', 1)[1]}.{function.__name__}-{index}"
                              for index, (function, _, _) in enumerate(GOLDEN)])
def test_diagnosis_reads_as_pinned(diagnosis, facts: tuple, expected: str):
    told = diagnosis(*facts)
    assert told == expected
    assert not JARGON.search(told), f"jargon in a message to a student: {told}"


def test_every_module_is_named_after_an_exercise():
    ids = {exercise.id for exercise in load_exercises()}
    strays = [module.__name__ for module in MODULES if module.__name__.rsplit(".", 1)[1].removeprefix("ex") not in ids]
    assert not strays, f"diagnoses modules named after no exercise of exercises.toml: {strays}"


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__.rsplit(".", 1)[1])
def test_every_diagnosis_is_pinned(module: ModuleType):
    pinned = {function for function, _, _ in GOLDEN}
    public = [function for name, function in inspect.getmembers(module, inspect.isfunction)
              if not name.startswith("_") and function.__module__ == module.__name__]
    assert public, f"{module.__name__} diagnoses nothing"
    unpinned = [function.__name__ for function in public if function not in pinned]
    assert not unpinned, f"pin the text of {unpinned} in GOLDEN"
