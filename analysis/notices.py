"""Things a reader must know to trust the numbers: a partial run, throttling, aborts, blind spots.

Notices are not checks and never change the exit code; each says what happened and, when
there is one, what to do about it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fwload.limits import STANDS_IN_FOR

from analysis.load import Run
from analysis.metrics.startup import died_during_load
from analysis.metrics.requests import RequestMetrics

THROTTLING_ADVICE = (
    "Funkwhale's rate limiter answered these requests (HTTP 429, or a throttled login). They are "
    "left out of latencies and the error ratio: they measure the limiter, not the server's speed. "
    "To measure capacity, lift it on the target: set THROTTLING_ENABLED=false, or raise the "
    "relevant scopes with THROTTLING_RATES (for example "
    'THROTTLING_RATES="login=1000/hour,authenticated-create=100000/hour").'
)


@dataclass
class Notice:
    kind: str
    message: str
    advice: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def run_notices(run: Run, requests: RequestMetrics, scenario_found: bool) -> list[Notice]:
    notices = []
    if run.partial:
        notices.append(
            Notice(
                "partial",
                "This run is partial: " + "; ".join(run.partial_reasons) + ".",
                "The figures cover what was recorded before the run stopped.",
            )
        )
    stand_ins = sorted(set(STANDS_IN_FOR) & set(run.resources["component"].astype(str).unique()))
    for local in stand_ins:
        notices.append(Notice(
            "stand-in",
            f"The embedded stand-in ({local}) is one process doing the work of Funkwhale's API and its "
            f"import worker; its CPU and memory are compared with the {STANDS_IN_FOR[local]}'s documented limits.",
            "Use the stack mode (fwload demo --stack) to see each component against its own limit.",
        ))
    throttled = int(requests.overall["throttled"].sum()) if len(requests.overall) else 0
    if throttled:
        total = int(requests.overall["requests"].sum())
        groups = ", ".join(f"{group} {count}" for group, count in requests.throttled_by_group.items())
        retry = [
            event.get("retry_after_s")
            for event in run.events_of("throttled")
            if isinstance(event.get("retry_after_s"), int | float)
        ]
        scopes = sorted({str(event["scope"]) for event in run.events_of("throttled") if event.get("scope")})
        extra = (f"; Retry-After up to {max(retry):g} s" if retry else "") + (
            f"; scopes: {', '.join(scopes)}" if scopes else ""
        )
        notices.append(
            Notice(
                "throttling",
                f"{throttled} of {total} requests were throttled ({groups}){extra}.",
                THROTTLING_ADVICE,
            )
        )
    for event in run.events_of("abort"):
        notices.append(
            Notice(
                "abort",
                f"An abort rule stopped the run: {event.get('rule', '?')} "
                f"(observed {event.get('observed', '?')}). {event.get('detail', '')}".strip(),
            )
        )
    dropped = run.sessions.loc[run.sessions["outcome"].astype(str) == "dropped"] if len(run.sessions) else None
    if dropped is not None and len(dropped):
        reasons = dropped["reason"].astype(str).value_counts()
        notices.append(
            Notice(
                "sessions_dropped",
                f"{len(dropped)} of {len(run.sessions)} sessions were dropped: the generator could not start "
                "them when they were due (" + ", ".join(f"{r} {n}" for r, n in reasons.items() if n) + "). "
                "The server received less load than the scenario asked for.",
                "no_slot: raise load.arrivals.slots (and caps.max_users); generator_cpu or late: add "
                "--processes or workers.",
            )
        )
    stopped: dict[tuple[str, str], int] = {}
    for event in run.events_of("user_stopped"):
        key = (str(event.get("user_class", "?")), str(event.get("reason", "")))
        stopped[key] = stopped.get(key, 0) + int(event.get("count") or 1)
    for (user_class, reason), count in stopped.items():
        notices.append(Notice(
            "user_stopped",
            f"{count} {user_class} user(s) stopped before their first task: {reason}.",
            "They made no load after that: fewer users ran than the scenario asked for.",
        ))
    for event in run.events_of("worker_missing"):
        notices.append(
            Notice(
                "worker_missing",
                f"Worker {event.get('worker', '?')} never delivered its final rows: "
                f"{event.get('detail', '')}".strip(),
                "Counts from that worker's last seconds are missing.",
            )
        )
    gaps = run.events_of("gap")
    if gaps:
        sources = sorted({str(event.get("source", "?")) for event in gaps})
        notices.append(
            Notice(
                "gap",
                f"The collector could not sample {len(gaps)} time(s) ({', '.join(sources)}); "
                f"first: {gaps[0].get('detail', '')}".strip(),
                "Resource percentiles cover the samples taken; their counts are shown.",
            )
        )
    for event in died_during_load(run):
        notices.append(Notice(
            "component_died",
            f"{event.get('component', '?')} died during the load"
            + (f" (stage {event['stage']})" if event.get("stage") else "") + f": {event.get('detail', '')}",
            "Its samples stop there; see the restarts and OOM kills of that component.",
        ))
    faults = run.events_of("fault")
    if faults:
        notices.append(Notice("faults", "Faults were injected on purpose into the local stand-in: "
                              + "; ".join(str(event.get("detail", "")) for event in faults) + ".",
                              "The errors and delays they caused are the point of this run."))
    for event in run.events_of("notice"):
        notices.append(Notice(str(event.get("source", "notice")), str(event.get("detail", ""))))
    for event in run.events_of("collector_notice"):
        notices.append(Notice("collector", f"{event.get('source', 'collector')}: {event.get('detail', '')}"))
    if run.events_of("stats_reset"):
        notices.append(
            Notice(
                "stats_reset",
                "Locust's statistics were reset from the web UI during the run.",
                "fwload's own files are append-only, so this report still covers the whole run; "
                "Locust's own CSV files do not.",
            )
        )
    if not scenario_found:
        notices.append(
            Notice(
                "no_scenario",
                "The run directory has no scenario.yaml: no SLO was checked.",
                "Run `locust -f locustfiles/funkwhale.py --scenario scenarios/x.yaml` (or `fwload run "
                "scenarios/x.yaml`) to get SLO verdicts.",
            )
        )
    return notices
