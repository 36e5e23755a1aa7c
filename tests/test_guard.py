"""guard: Ctrl-C held during a store write (a second one gets out), and the per-page time limit."""

from __future__ import annotations

import os
import signal
import time

import pytest

from evidencegraph.guard import sigint_deferred, sigint_ignored
from evidencegraph.limits import TimeLimit, time_limit


def test_ctrl_c_is_held_until_the_write_is_done():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append("the write")
    assert done == ["the write"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_gets_out_at_once():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append("never")
    assert done == []


def test_ctrl_c_ignored_during_clean_up():
    with sigint_ignored():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_time_limit_stops_a_runaway_regex():
    import re

    started = time.monotonic()
    with pytest.raises(TimeLimit):
        with time_limit(0.5):
            re.match(r"^(?P<d>\S+\.\S+) (?P<n>\d+)$", "a.b" * 300_000 + " x")  # the old chip pattern: minutes
    assert time.monotonic() - started < 3
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
