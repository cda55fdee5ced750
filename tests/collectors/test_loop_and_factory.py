"""`CollectorLoop` (thread or greenlet, never raising) and `make_collector`."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from fwload.collectors import BACKENDS, SETTINGS, CollectorLoop, make_collector
from fwload.collectors.base import Collection, Collector, ComponentHealth, ResourceSample
from fwload.errors import UsageError
from tests.fakes.kube_api import metrics_pods_path, seed_funkwhale

ROOT = Path(__file__).resolve().parents[2]


class Counting(Collector):
    name = "counting"
    default_interval_s = 0.01

    def __init__(self, fail_on: set[int] | None = None):
        self.calls = 0
        self.fail_on = fail_on or set()
        self.threads: list[str] = []

    def check_connection(self) -> list[str]:
        return []

    def collect(self, stage: str = "") -> Collection:
        self.calls += 1
        self.threads.append(threading.current_thread().name)
        if self.calls in self.fail_on:
            raise RuntimeError(f"boom {self.calls}")
        return Collection(samples=[ResourceSample(ts=float(self.calls), source="counting", component="c",
                                                  pod="p", container="c", stage=stage)])

    def health(self) -> list[ComponentHealth]:
        return []


class StopAfter:
    """An injected sleep that records the waits and stops the loop after ``n`` of them."""

    def __init__(self, n: int):
        self.n, self.waits, self.loop = n, [], None

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) >= self.n:
            self.loop._stopped = True


def run_loop(collector: Collector, n: int, sink, clock=lambda: 100.0) -> StopAfter:
    sleep = StopAfter(n)
    done = threading.Event()
    loop = CollectorLoop(collector, 5.0, sink, stage=lambda: "ramp", sleep=sleep, clock=clock,
                         spawn=lambda target: threading.Thread(target=lambda: (target(), done.set())).start())
    sleep.loop = loop
    loop.start()
    assert done.wait(10), "the loop did not end"
    return sleep


def collected(into: list[Collection]):
    return lambda samples, events: into.append(Collection(samples, events))


def test_loop_hands_every_collection_to_the_sink_with_the_stage():
    got: list[Collection] = []
    sleep = run_loop(Counting(), 3, collected(got))
    assert [c.samples[0].ts for c in got] == [1.0, 2.0, 3.0]
    assert {c.samples[0].stage for c in got} == {"ramp"}
    assert sleep.waits == [5.0, 10.0, 15.0]  # fixed cadence from the start: the frozen clock never moves


def test_slow_collections_shorten_the_next_wait_and_an_overrun_does_not_burst():
    times = iter([100.0, 102.0, 108.0, 120.0, 120.0])
    sleep = run_loop(Counting(), 3, lambda samples, events: None, clock=lambda: next(times))
    assert sleep.waits == [3.0, 2.0, 0.0]


def test_a_raising_collector_becomes_a_gap_and_the_loop_goes_on():
    got: list[Collection] = []
    run_loop(Counting(fail_on={2}), 3, collected(got))
    assert [c.samples[0].ts if c.samples else None for c in got] == [1.0, None, 3.0]
    assert got[1].events[0].type == "gap"
    assert got[1].events[0].data == {"source": "counting", "detail": "collector error: RuntimeError: boom 2"}


def test_a_raising_sink_does_not_stop_the_loop():
    collector = Counting()

    def sink(samples, events) -> None:
        raise OSError("disk full")

    run_loop(collector, 3, sink)
    assert collector.calls == 3


def test_stop_wakes_the_default_thread_loop_and_ends_it():
    collector = Counting()
    seen = threading.Event()
    loop = CollectorLoop(collector, 3600, lambda samples, events: seen.set())
    loop.start()
    assert seen.wait(10)
    handle = loop._handle
    loop.stop(timeout_s=10)
    assert not handle.is_alive() and collector.calls == 1
    assert collector.threads == ["fwload-collector"]


def test_under_gevent_patching_the_loop_is_a_greenlet(tmp_path: Path):
    script = textwrap.dedent("""
        from gevent import monkey
        monkey.patch_all()
        import gevent, threading
        from fwload.collectors import CollectorLoop
        from fwload.collectors.base import Collection
        from tests.collectors.test_loop_and_factory import Counting

        collector = Counting()
        where = []
        original = collector.collect
        def collect(stage=""):
            where.append(gevent.getcurrent() is not gevent.get_hub().parent)
            return original(stage)
        collector.collect = collect
        got = []
        loop = CollectorLoop(collector, 0.01, lambda samples, events: got.append(samples))
        loop.start()
        kind = type(loop._handle).__name__
        while len(got) < 3:
            gevent.sleep(0.01)
        loop.stop()
        print(kind, all(where), loop._handle is None)

        slow = CollectorLoop(Counting(), 3600, lambda samples, events: None,
                             spawn=gevent.spawn, sleep=gevent.sleep)
        slow.start()
        handle = slow._handle
        while slow.collections < 1:
            gevent.sleep(0.01)
        slow.stop(timeout_s=30)
        print(handle.dead)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Greenlet", "True", "True", "True"]


def test_factory_settings_match_the_constructors():
    for name, (module, attribute) in BACKENDS.items():
        cls = getattr(__import__(module, fromlist=[attribute]), attribute)
        assert SETTINGS[name] == set(inspect.signature(cls.__init__).parameters) - {"self"}


def test_factory_builds_each_backend_and_checks_settings(kubeconfig: Path, cluster):
    seed_funkwhale(cluster)
    local = make_collector("auto", pids={"standin": os.getpid()}, interval="500ms", namespace="funkwhale")
    assert (local.name, local.default_interval_s) == ("processes", 0.5)
    remote = make_collector("auto", kubeconfig=str(kubeconfig), interval="15s", context=None)
    assert (remote.name, remote.default_interval_s, remote.namespace) == ("kubernetes", 15.0, "funkwhale")
    sampled = remote.collect()
    assert sampled.events == [] and len(sampled.samples) == 6
    assert cluster.count(metrics_pods_path()) == 1
    remote.close()
    with pytest.raises(UsageError) as unknown:
        make_collector("graphite")
    assert unknown.value.problem == "unknown collector backend 'graphite'"
    assert unknown.value.fix == "use one of: auto, " + ", ".join(BACKENDS)
    with pytest.raises(UsageError) as typo:
        make_collector("processes", pids={}, namespce="x")
    assert typo.value.problem == "unknown collector setting(s) for processes: namespce"
    with pytest.raises(UsageError):
        make_collector("processes", pids={}, interval="soon")
