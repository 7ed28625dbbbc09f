"""Real threads for the race tests (PostgreSQL, ``transaction=True``)."""
import threading

from django.db import connection


def run_at_once(*calls):
    """Run every call in its own thread, all released together; returns each call's result or
    the exception it raised, in order. Fails when a thread is still running after a minute (a
    deadlock)."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            outcomes[i] = call()
        except Exception as exc:  # the outcome under test, collected for the assertions
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return outcomes
