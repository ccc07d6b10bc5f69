"""Progress pings for `--stuck-after`: the first output at once, then at most one a minute."""

from __future__ import annotations

import threading

from cronbeat.cli.ping import Pinger, PingFailed, PingReply
from cronbeat.cli.progress import PROGRESS_INTERVAL_S, ProgressPings, ProgressRate


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


class RecordingPinger(Pinger):
    """Records each URL at the fake clock's time; fails while `failing` is set."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(retries=0)
        self.clock = clock
        self.sent_at: list[float] = []
        self.failing = False
        self.arrived = threading.Semaphore(0)

    def send(self, url: str, body: bytes | None = None) -> PingReply:
        self.sent_at.append(self.clock())
        self.arrived.release()
        if self.failing:
            raise PingFailed("HTTP 503")
        return PingReply(200, None)


def test_the_first_output_is_due_at_once_then_one_per_minute() -> None:
    # Given a rate with nothing sent yet
    rate = ProgressRate()
    # When output comes at these seconds
    times = [0.0, 0.5, 30.0, 59.9, 60.0, 61.0, 119.9, 120.0, 400.0]
    due = [t for t in times if rate.due(t)]
    # Then the first is due, then only those a full minute after the last one sent
    assert due == [0.0, 60.0, 120.0, 400.0]


def test_an_hour_of_continuous_output_is_at_most_61_pings() -> None:
    # Given a rate, and output every 10 ms for an hour on a fake clock
    rate = ProgressRate()
    due = sum(rate.due(tick / 100) for tick in range(360_001))
    # Then one ping went out per minute, plus the first
    assert due == 3600 / PROGRESS_INTERVAL_S + 1


def started() -> tuple[FakeClock, RecordingPinger, ProgressPings]:
    """Progress pings sending on their own thread, on a fake clock."""
    clock = FakeClock()
    pinger = RecordingPinger(clock)
    progress = ProgressPings(pinger, "http://monitor/ping/x/progress", 1800.0, clock=clock)
    progress.start()
    return clock, pinger, progress


def test_pings_go_out_on_their_own_thread_and_failures_are_counted() -> None:
    # Given progress pings on a fake clock, to a monitor that fails the second one
    clock, pinger, progress = started()
    # When output comes now, a second later, and two minutes later
    progress.notice()
    assert pinger.arrived.acquire(timeout=10)
    clock.now_s += 1
    progress.notice()
    clock.now_s += 120
    pinger.failing = True
    progress.notice()
    assert pinger.arrived.acquire(timeout=10)
    progress.stop()
    # Then two pings went out (the one a second after the first was not due), one failed,
    # and the note for the finish body says so
    assert pinger.sent_at == [1000.0, 1121.0]
    assert (progress.sent, progress.failed) == (1, 1)
    assert progress.notes() == ["1 of 2 progress pings not recorded: HTTP 503"]


def test_nothing_is_noted_when_every_progress_ping_got_through() -> None:
    # Given progress pings that all succeeded
    _, pinger, progress = started()
    progress.notice()
    assert pinger.arrived.acquire(timeout=10)
    progress.stop()
    # Then the finish body gets no note
    assert (progress.sent, progress.failed) == (1, 0)
    assert progress.notes() == []


def test_a_silence_longer_than_stuck_after_is_noted() -> None:
    # Given progress pings with a 30 min stuck_after, and output 10 s after the start
    clock, pinger, progress = started()
    clock.now_s += 10
    progress.notice()
    assert pinger.arrived.acquire(timeout=10)
    # When the job is silent for 30 min, prints, then is silent for 40 min before it ends
    clock.now_s += 1800
    progress.notice()
    clock.now_s += 2400
    progress.stop()
    # Then only the silence longer than 30 min is noted, in words
    assert progress.notes() == [
        "no progress for 40 min, longer than --stuck-after 30 min: the run may show as stuck"
    ]
