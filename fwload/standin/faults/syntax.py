"""The compact form of a fault on the command line: ``fwload standin --fault SPEC`` (repeatable).

    SPEC   = [SELECTOR.]KIND=VALUE[@AFTER[+FOR]]
    SELECTOR: a request group (browse, upload, listen...) or a throttle scope (login, signup...);
              left out: every request. Only request kinds take one.
    @AFTER+FOR: on from AFTER seconds after start, for FOR seconds (default: from the start, to the end).

    latency=200ms              fixed extra time        latency=50ms..300ms   uniform
    latency=200ms~2s           lognormal: median~p99
    error=0.05  error=5%:503   that share answered 500 (default), 502 or 503
    throttle=30/minute         Funkwhale's limiter at that rate (429 + X-RateLimit-* + Retry-After)
    throttle=storm:50%[:2s]    that share throttled whatever the rate (Retry-After 1 s by default)
    reset=0.1                  that share of connections reset with no answer
    import-delay=DELAY  import-fail=SHARE  import-stuck=SHARE    slow, errored, forever pending imports
    worker=dead@30s[+60s]      the import worker dies at 30 s (and comes back 60 s later)
    restart=5s@1m              the API goes down for 5 s at 1 min (only a launcher can do this)
    seed=42                    repeatable random draws

Example: ``--fault browse.latency=200ms~2s --fault login.throttle=5/minute --fault search.reset=10%@10s+20s``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from fwload.common.faults import THROTTLE_SCOPES, Faults
from fwload.common.messages import describe
from fwload.common.requests import REQUEST_GROUPS
from fwload.errors import UsageError
from fwload.units import parse_duration

FAULT_HELP = (
    "Inject a fault (repeatable): [GROUP.]KIND=VALUE[@AFTER[+FOR]], e.g. browse.latency=200ms~2s, "
    "upload.error=5%:503, throttle=storm:50%, login.throttle=5/minute, search.reset=0.1, import-fail=0.2, "
    "import-stuck=0.1, worker=dead@30s. Syntax: fwload/standin/faults/syntax.py."
)
_SPEC = re.compile(
    r"^(?:(?P<selector>[a-z_-]+)\.)?(?P<kind>[a-z-]+)=(?P<value>[^@]+)"
    r"(?:@(?P<after>[^+]+)(?:\+(?P<for>.+))?)?$"
)
_REQUEST_KINDS = ("latency", "error", "throttle", "reset")
_IMPORT_KINDS = {"import-delay": "delay", "import-fail": "fail", "import-stuck": "stuck"}
_OTHER_KINDS = ("worker", "restart", "seed")
_FIX = "write it like browse.latency=200ms~2s or throttle=storm:50% (see `fwload standin --help`)"


def parse_faults(specs: list[str]) -> Faults:
    """The plan the ``--fault`` options describe, or one UsageError naming the bad option."""
    data: dict[str, Any] = {"requests": [], "restarts": []}
    imports: dict[str, Any] = {}
    import_windows: set[tuple[Any, Any]] = set()
    for spec in specs:
        match = _SPEC.match(spec.strip())
        if match is None:
            raise UsageError(f"--fault {spec!r} is not [GROUP.]KIND=VALUE[@AFTER[+FOR]]", _FIX)
        selector, kind, value = match["selector"], match["kind"], match["value"].strip()
        window = {key: match[name] for key, name in (("after", "after"), ("for", "for")) if match[name]}
        if selector and kind not in _REQUEST_KINDS:
            raise UsageError(
                f"--fault {spec!r}: {kind} takes no {selector!r} selector",
                f"only {', '.join(_REQUEST_KINDS)} apply to a group or scope",
            )
        if kind in _REQUEST_KINDS:
            data["requests"].append(
                {**_selector(selector, spec), kind: _request_value(kind, value, spec), **window}
            )
        elif kind in _IMPORT_KINDS:
            imports[_IMPORT_KINDS[kind]] = _delay(value) if kind == "import-delay" else _share(value)
            import_windows.add((window.get("after"), window.get("for")))
        elif kind == "worker":
            if value != "dead":
                raise UsageError(
                    f"--fault {spec!r}: the only worker fault is 'dead'", "write worker=dead@30s"
                )
            data["worker"] = {"dies_after": window.get("after", 0)}
            if "for" in window:
                data["worker"]["back_after"] = (
                    f"{_seconds(window['after'], spec) + _seconds(window['for'], spec)}"
                )
        elif kind == "restart":
            data["restarts"].append({"down": value, "after": window.get("after", 0)})
        elif kind == "seed":
            data["seed"] = value
        else:
            known = ", ".join([*_REQUEST_KINDS, *_IMPORT_KINDS, *_OTHER_KINDS])
            raise UsageError(f"--fault {spec!r}: unknown kind {kind!r}", f"use one of {known}")
    if imports:
        if len(import_windows) > 1:
            raise UsageError(
                "--fault: the import-* faults name different @AFTER+FOR windows",
                "give every import-* fault the same window (or none)",
            )
        after, for_ = import_windows.pop()
        data["imports"] = {
            **imports,
            **({"after": after} if after else {}),
            **({"for": for_} if for_ else {}),
        }
    try:
        return Faults.model_validate(data)
    except ValidationError as error:
        raise UsageError("--fault: " + "; ".join(describe(error, Faults, data)), _FIX) from None


def _selector(selector: str | None, spec: str) -> dict[str, str]:
    if selector is None:
        return {}
    if selector in REQUEST_GROUPS:
        return {"group": selector}
    if selector in THROTTLE_SCOPES:
        return {"scope": selector}
    raise UsageError(
        f"--fault {spec!r}: {selector!r} is neither a request group nor a throttle scope",
        f"use a group ({', '.join(REQUEST_GROUPS)}) or a scope such as login, signup",
    )


def _request_value(kind: str, value: str, spec: str) -> Any:
    if kind == "latency":
        return _delay(value)
    if kind == "reset":
        return _share(value)
    if kind == "error":
        ratio, _, status = value.partition(":")
        return {
            "ratio": _share(ratio),
            **({"status": int(status) if status.isdigit() else status} if status else {}),
        }
    if value.startswith("storm:"):
        share, _, retry = value.removeprefix("storm:").partition(":")
        return {"storm": _share(share), **({"retry_after": retry} if retry else {})}
    if "/" not in value:
        raise UsageError(
            f"--fault {spec!r}: a throttle is N/period or storm:SHARE", "e.g. throttle=30/minute"
        )
    return {"rate": value}


def _delay(value: str) -> Any:
    if ".." in value:
        low, _, high = value.partition("..")
        return {"distribution": "uniform", "low": low, "high": high}
    if "~" in value:
        median, _, p99 = value.partition("~")
        return {"distribution": "lognormal", "median": median, "p99": p99}
    return value


def _share(value: str) -> Any:
    text = value.strip()
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100
        except ValueError:
            return text
    return text


def _seconds(text: str, spec: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise UsageError(f"--fault {spec!r}: {error}", _FIX) from None
