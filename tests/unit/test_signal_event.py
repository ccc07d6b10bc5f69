"""SignalEvent: set from a signal handler, even one interrupted by another signal, never hangs."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from tests.e2e.devserver import ROOT

WAKE_TIMEOUT_S = 20.0
"""A bound for a process that either wakes at once or never does; not a speed budget."""

# A second SIGTERM at every line the first handler runs, nested handlers included: where
# `threading.Event` deadlocks (its lock is taken again by the nested handler), this must wake.
NESTED_SIGNALS = textwrap.dedent(
    """
    import os, signal, sys
    from cronbeat.cli.signals import SignalEvent

    stop = SignalEvent()
    depth = 0
    nested = 0

    def another_signal_at_every_line(frame, kind, arg):
        global nested
        if kind == "line" and depth == 1:
            nested += 1
            os.kill(os.getpid(), signal.SIGTERM)
        return another_signal_at_every_line

    def on_sigterm(signum, frame):
        global depth
        depth += 1
        if depth == 1:
            sys.settrace(another_signal_at_every_line)
        stop.set()
        if depth == 1:
            sys.settrace(None)
        depth -= 1

    signal.signal(signal.SIGTERM, on_sigterm)
    print("ready", flush=True)
    while not stop.wait(1.0):
        pass
    print(f"woke after {nested} nested signals", flush=True)
    stop.release()
    stop.set()  # a handler that comes after release does nothing
    """
)


def test_a_signal_inside_the_handler_of_another_still_wakes_the_waiter() -> None:
    # Given a process waiting on a SignalEvent that SIGTERM's handler sets
    # When SIGTERM comes, and another at each line its handler runs
    status, out, err = _signalled(NESTED_SIGNALS)
    # Then the waiter woke, after the handler had been interrupted at least once, and exited
    assert status == 0, err
    assert out.startswith("woke after "), out
    assert int(out.split()[2]) >= 1, out


# The main thread blocks SIGTERM, so the kernel hands it to the one thread that does not: the
# main thread's select is never interrupted, and only a wait that wakes by itself lets the
# handler run.
SIGNAL_ON_ANOTHER_THREAD = textwrap.dedent(
    """
    import os, signal, threading
    from cronbeat.cli.signals import SignalEvent

    stop = SignalEvent()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    idle = threading.Thread(target=threading.Event().wait, daemon=True)
    idle.start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    print("ready", flush=True)
    print("woke" if stop.wait() else "timed out", flush=True)
    """
)


def _signalled(program: str) -> tuple[int, str, str]:
    """Run `program` until it says ready, SIGTERM it once, and return how it ended."""
    process = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "functions")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=WAKE_TIMEOUT_S)
    finally:
        process.kill()
        process.wait()
    return process.returncode, out, err


def test_a_signal_that_lands_on_another_thread_still_wakes_the_main_thread() -> None:
    # Given a waiting main thread that blocks SIGTERM, beside a thread that does not
    # When SIGTERM comes to the process
    status, out, err = _signalled(SIGNAL_ON_ANOTHER_THREAD)
    # Then the handler ran and the wait woke
    assert (status, out) == (0, "woke\n"), err


def test_a_set_event_stays_set_and_an_unset_one_times_out() -> None:
    from cronbeat.cli.signals import SignalEvent

    # Given a new event
    event = SignalEvent()
    try:
        # Then it is not set, and a short wait says so
        assert event.wait(0) is False
        assert event.wait(0.01) is False
        # When it is set twice
        event.set()
        event.set()
        # Then every later wait returns at once
        assert event.wait(0) is True
        assert event.wait(0.01) is True
    finally:
        event.release()
    event.release()  # a second release is harmless
