"""Checks before the load: is the target ready, do the credentials work, will it throttle?

A server that accepts connections and then hangs (the API's OOM respawn loop at the
documented limits, funkwhale-under-seed-limits.md §3) is *not ready*: readiness waits for
nodeinfo to answer 200 within a deadline, and says what it saw otherwise. Locust-free
(requests), so the CLI and the Locust plugin share it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import requests

import fwload

from fwload.collectors.base import ComponentHealth
from fwload.errors import FwloadError, NotReadyError, TargetError, UsageError
from fwload.funkwhale import api, paths
from fwload.funkwhale.accounts import Account

PROBE_TIMEOUT_S = 5.0
USER_AGENT = f"fwload-preflight/{fwload.__version__}"
"""The checks' own requests say what they are, so a target's logs (and tests) tell them from the load."""


def preflight_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


@dataclass
class Readiness:
    ready: bool
    seconds: float
    attempts: int
    detail: str
    nodeinfo: dict[str, Any] = field(default_factory=dict)
    components: list[ComponentHealth] = field(default_factory=list)
    api_failure: str = ""
    """What the API did instead of answering nodeinfo ("" when it answered)."""

    def as_event(self) -> dict[str, Any]:
        return {"ready": self.ready, "seconds": round(self.seconds, 3), "attempts": self.attempts,
                "detail": self.detail, "version": self.nodeinfo.get("version", ""),
                "components": {c.component: {"alive": c.alive, "ready": c.ready, "detail": c.detail}
                               for c in self.components}}


def check_readiness(host: str, deadline_s: float, collector: Any = None, *,
                    sleep: Callable[[float], None] = time.sleep) -> Readiness:
    """The readiness gate: the API answers nodeinfo, and every component the collector sees
    is alive and ready, all within one deadline.

    When the API never answers (it hangs, or is down), the components are still read once:
    a dead Celery worker or beat is named beside the API, not hidden behind it."""
    readiness = wait_until_ready(host, deadline_s, sleep=sleep)
    if not readiness.ready:
        readiness.api_failure = readiness.detail
    if collector is None:
        return readiness
    if readiness.ready:
        components, waited = wait_for_components(collector.health, max(deadline_s - readiness.seconds, 0.0),
                                                 sleep=sleep)
        readiness.seconds += waited
    else:
        try:
            components = collector.health()
        except (FwloadError, OSError):  # the API's failure is the finding; a blind collector adds nothing
            components = []
    readiness.components = components
    failing = [c for c in components if not (c.alive and c.ready)]
    if failing:
        named = "; ".join(f"{c.component} {'not ready' if c.alive else 'dead'}: {c.detail}" for c in failing)
        readiness.detail = f"{readiness.detail}; {named}" if readiness.api_failure else named
        readiness.ready = False
    return readiness


def shared_cpu_notice(host: str, *, local_standin: bool = False) -> str | None:
    """A notice when the load generator runs on the target's machine (the local stand-in, or a
    host that resolves to one of this machine's addresses): Locust's own CPU then competes
    with the target's, so the run measures both together and capacity figures are low."""
    cpus = os.cpu_count() or 1
    if local_standin:
        where = "the local stand-in runs on this machine"
    elif _is_this_machine(urlsplit(host).hostname or ""):
        where = f"{safe_url(host)} is this machine"
    else:
        return None
    return (f"the load generator shares the target's CPU ({where}, {cpus} CPU(s)): Locust's own work slows "
            "the target, so latencies include it and capacity figures are lower bounds; for capacity, run the "
            "load from another machine")


def _is_this_machine(hostname: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(hostname, None)}
    except (OSError, UnicodeError):
        return False
    own = {address.address.split("%", 1)[0] for addresses_of in psutil.net_if_addrs().values()
           for address in addresses_of}
    return any(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback or a in own for a in addresses)


def safe_url(url: str) -> str:
    """The URL without user:password, fit for run.json and logs."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_host(host: str | None) -> str:
    if not host:
        raise UsageError("no target host", "pass --host https://funkwhale.example (or set target.host in the scenario)")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{host!r} is not an http(s) URL", "pass a URL such as https://funkwhale.staging.example")
    base = paths.path_in_base_url(host)
    if base:
        raise UsageError(f"--host {safe_url(host)} has a path ({parts.path}): fwload needs the instance's base URL "
                         "(every API path is taken from there)", f"pass --host {safe_url(base)}")
    return host.rstrip("/")


def wait_until_ready(host: str, deadline_s: float, *, session: requests.Session | None = None,
                     sleep: Callable[[float], None] = time.sleep) -> Readiness:
    """Poll nodeinfo until it answers 200 with a Funkwhale document, or the deadline passes."""
    http = session or preflight_session()
    start = time.monotonic()
    attempts = 0
    detail = "no answer yet"
    while True:
        attempts += 1
        remaining = deadline_s - (time.monotonic() - start)
        try:
            response = http.get(host + paths.NODEINFO, timeout=max(min(PROBE_TIMEOUT_S, remaining), 0.5))
            _refuse_redirect(host, response)
            if response.status_code == 200:
                try:
                    summary = api.nodeinfo_summary(response.json())
                except (ValueError, api.UnexpectedAnswer) as error:
                    detail = f"nodeinfo answered 200 but {error}"
                else:
                    return Readiness(True, time.monotonic() - start, attempts, "nodeinfo answered 200", summary)
            elif response.status_code == 400:
                detail = ("nodeinfo answered HTTP 400: Django refuses this host name (use the instance's own "
                          "name as --host, or add it to DJANGO_ALLOWED_HOSTS / FUNKWHALE_HOSTNAME)")
            else:
                detail = f"nodeinfo answered HTTP {response.status_code}"
        except requests.Timeout:
            detail = (f"connections are accepted but nodeinfo did not answer within {PROBE_TIMEOUT_S:g} s "
                      "(a server that hangs: e.g. every API worker OOM-killed under a surviving master)")
        except requests.ConnectionError as error:
            if _unknown_host(error):
                raise TargetError(f"{safe_url(host)}: the host name does not resolve",
                                  "check the URL (--host or target.host) and your DNS") from None
            detail = f"cannot connect: {_reason(error)}"
        elapsed = time.monotonic() - start
        if elapsed >= deadline_s:
            return Readiness(False, elapsed, attempts, detail)
        sleep(min(1.0, max(deadline_s - elapsed, 0)))


def _refuse_redirect(host: str, response: requests.Response) -> None:
    """A redirected host (e.g. nginx's HTTP→HTTPS server) looks ready here, but in the load
    every POST would turn into a GET without its body and lose its Authorization header."""
    if response.history:
        final = safe_url(response.url).removesuffix(paths.NODEINFO)
        raise UsageError(f"{safe_url(host)} redirects to {final} (HTTP {response.history[0].status_code})",
                         f"use --host {final}")


def wait_for_components(health: Callable[[], list[ComponentHealth]], deadline_s: float, *,
                        sleep: Callable[[float], None] = time.sleep) -> tuple[list[ComponentHealth], float]:
    """Wait until every component the collector sees is alive and ready, or the deadline.

    Returns the last health reading and the seconds waited. A component that died at
    start-up (an OOM-killed Celery worker at the documented limits) is named here, before
    any load, instead of showing up later as "0 imports".
    """
    start = time.monotonic()
    while True:
        components = health()
        waited = time.monotonic() - start
        if all(c.alive and c.ready for c in components) or waited >= deadline_s:
            return components, waited
        sleep(min(1.0, max(deadline_s - waited, 0.0)))


def startup_failures(readiness: Readiness) -> list[dict[str, Any]]:
    """``startup_failure`` events for the run directory: each dead or unready component, or
    the API itself when it never answered."""
    failing = [c for c in readiness.components if not (c.alive and c.ready)]
    failures = [{"component": c.component, "detail": f"{'not ready' if c.alive else 'dead'}: {c.detail}"}
                for c in failing]
    if readiness.api_failure and not any(c.component == "api" for c in failing):
        failures.insert(0, {"component": "api", "detail": readiness.api_failure})
    return failures


def require_ready(readiness: Readiness, host: str, deadline_s: float, collector: Any = None) -> None:
    """Raise `NotReadyError`; the advice names `fwload k8s check` only for a target in Kubernetes."""
    if not readiness.ready:
        in_kubernetes = getattr(collector, "name", "") == "kubernetes"
        where = "(fwload k8s check)" if in_kubernetes else "(the api, nginx, the Celery worker and beat: their logs)"
        raise NotReadyError(
            f"{safe_url(host)} never became ready within {deadline_s:g} s: {readiness.detail}",
            f"check that every component is up {where}, or raise target.ready_timeout",
        )


def check_credentials(host: str, nodeinfo: dict[str, Any], accounts: list[Account] | None,
                      *, session: requests.Session | None = None) -> list[str]:
    """Raise if the load cannot authenticate; return notices worth showing."""
    http = session or preflight_session()
    if accounts:
        first = accounts[0]
        try:
            response = http.get(host + paths.USERS_ME, timeout=30,
                                auth=(first.username, first.password.get_secret_value()))
        except requests.RequestException as error:
            raise TargetError(f"cannot check the credentials on {safe_url(host)}: {_reason(error)}",
                              "check that the target is reachable") from None
        if response.status_code in (401, 403):
            raise TargetError(f"wrong credentials: {safe_url(host)} refused account {first.username!r} "
                              f"(HTTP {response.status_code})", "fix the users file, or recreate the accounts "
                              "with `fwload users provision`")
        if response.status_code != 200:
            raise TargetError(f"checking account {first.username!r} got HTTP {response.status_code}",
                              "check the target's logs")
        return _quota_notices(first.username, response)
    if not nodeinfo.get("open_registrations"):
        raise TargetError(
            f"registration is closed on {safe_url(host)} and no users file was given",
            "create accounts with `fwload users provision` and pass --users-file, or open registration "
            "(users__registration_enabled) on the staging instance",
        )
    return []


SIGNUP_UNKNOWN = ("accounts will be registered through open registration, and whether the target throttles "
                  "signup is unknown (real Funkwhale allows 10 a day per address unless THROTTLING_ENABLED=false)")


AUDIO_PROBE_RANGE = "bytes=0-1023"


def check_audio_serving(host: str, accounts: list[Account] | None, *,
                        session: requests.Session | None = None) -> list[str]:
    """One listen before the load: refuse a target that answers it like the api behind
    nginx's back (an empty 200/206 with ``X-Accel-Redirect``, §4.2), where every play of the
    run would fail; return notices when it cannot tell.

    The listen is of the first playable track the account sees, as the account of the users
    file (Bearer with its token, else HTTP Basic) or, when accounts are registered, an account
    registered for this check (one more signup, counted in the throttle budget). With no
    playable track yet, each listen of the run is still checked (and fails, saying why).
    """
    http = session or preflight_session()
    where = safe_url(host)
    try:
        credentials = _probe_credentials(http, host, accounts)
        if credentials is None:
            return [f"could not check before the load that nginx serves the audio of {where} (registration "
                    "refused a probe account): each listen of the run is checked instead"]
        tracks = http.get(host + paths.TRACKS, params=api.tracks_params(1, 1), timeout=30, **credentials)
        playable = api.playable_tracks(tracks.json()) if tracks.status_code == 200 else None
        if not playable:
            seen = "no playable track yet" if playable is not None else f"the track list answered HTTP {tracks.status_code}"
            return [f"{seen} on {where}: that nginx serves the audio (and not the api's bare X-Accel-Redirect) "
                    "is checked at each listen of the run instead"]
        track = playable[0]
        headers = {**credentials.pop("headers", {}), "Range": AUDIO_PROBE_RANGE, "Accept": api.AUDIO_ACCEPT}
        listen = http.get(host + api.listen_path(track.listen_url), headers=headers, timeout=30, **credentials)
    except (requests.RequestException, ValueError, api.UnexpectedAnswer) as error:
        return [f"could not listen to a track on {where} before the load ({_reason(error)}): each listen of the "
                "run is checked instead"]
    if listen.status_code in (200, 206) and api.nginx_bypassed(listen.headers, len(listen.content)):
        raise TargetError(f"{where} answers a listen (track {track.id}, HTTP {listen.status_code}) with no audio, "
                          f"only X-Accel-Redirect: nginx is bypassed, and every play of the run would fail",
                          api.NGINX_BYPASS_FIX)
    if listen.status_code not in (200, 206):
        return [f"a listen of track {track.id} on {where} answered HTTP {listen.status_code} before the load"]
    return []


def _probe_credentials(http: requests.Session, host: str, accounts: list[Account] | None) -> dict[str, Any] | None:
    """``requests`` keyword arguments that authenticate the pre-flight listen, or None."""
    if accounts:
        first = accounts[0]
        if first.token is not None:
            return {"headers": {"Authorization": f"Bearer {first.token.get_secret_value()}"}}
        return {"auth": (first.username, first.password.get_secret_value())}
    username, password = api.new_username(), api.new_password()
    answer = http.post(host + paths.REGISTRATION, json=api.registration_body(username, password), timeout=30)
    http.cookies.clear()
    return {"auth": (username, password)} if answer.status_code == 201 else None


@dataclass(frozen=True)
class AuthPlan:
    """What the load will ask of the target's authentication throttles."""

    mode: str
    accounts: list[Account] | None
    peak_users: int
    processes: int = 1


_UNTHROTTLE = "or run the api with THROTTLING_ENABLED=false (or generous THROTTLING_RATES) on staging"
LOW_QUOTA_MB = 200


def _quota_notices(username: str, me: requests.Response) -> list[str]:
    """Uploads count toward the account's quota in every status and are never deleted by a
    run (§2.2): an account reused run after run ends up refusing every upload."""
    try:
        remaining = (me.json().get("quota_status") or {}).get("remaining")
    except (ValueError, AttributeError):
        return []
    if not isinstance(remaining, int | float) or remaining >= LOW_QUOTA_MB:
        return []
    return [f"account {username!r} has {remaining:g} MB of upload quota left: uploads beyond it are refused "
            "(400 upload_quota_reached); raise it (`funkwhale-manage fw users update --upload-quota`) "
            "or provision fresh accounts"]


def throttling_notices(host: str, plan: AuthPlan | None = None, *,
                       session: requests.Session | None = None) -> list[str]:
    """Advice when the target throttles: a load test then measures the throttle, not the server.

    With a ``plan``, a run the throttles make impossible is refused before the load (§1.7:
    signup 10/day and login 30/hour per address, 10 apps an hour per account), instead of
    virtual users quietly stopping one after another.
    """
    http = session or preflight_session()
    scopes = _rate_limits(http, host)
    if scopes is None:
        registering = plan is not None and plan.accounts is None
        return ["could not read /api/v1/rate-limit/: throttling state unknown", *([SIGNUP_UNKNOWN] if registering else [])]
    if not scopes:
        return []
    if plan is not None:
        _check_budget(http, host, plan, scopes)
    limits = ", ".join(f"{name} {scopes[name].get('rate')}" for name in
                       ("login", "signup", "authenticated-oauth-app", "authenticated-create", "subsonic")
                       if name in scopes)
    return [f"throttling is ON on {safe_url(host)} ({limits}): 429s will be reported as throttling, not as "
            "slowness; on staging set THROTTLING_ENABLED=false or generous THROTTLING_RATES"]


def _rate_limits(http: requests.Session, host: str, auth: tuple[str, str] | None = None) -> dict[str, dict] | None:
    """Scope id -> scope of ``GET /api/v1/rate-limit/`` ({} when throttling is off, None if unreadable)."""
    try:
        response = http.get(host + paths.RATE_LIMIT, timeout=10, auth=auth)
        if response.status_code != 200:
            return None
        enabled, scopes = api.rate_limit_summary(response.json())
    except (requests.RequestException, ValueError, api.UnexpectedAnswer):
        return None
    return {str(s.get("id")): s for s in scopes if isinstance(s, dict)} if enabled else {}


def _check_budget(http: requests.Session, host: str, plan: AuthPlan, scopes: dict[str, dict]) -> None:
    where = safe_url(host)
    if plan.accounts is None:
        if short := _short(scopes.get("signup"), plan.peak_users + 1):
            raise TargetError(f"the signup throttle on {where} allows {short[0]} more registration(s) from this "
                              f"address ({short[1]}), and each of up to {plan.peak_users} virtual user(s) registers an "
                              "account (the pre-flight listen one more)",
                              f"create the accounts once with `fwload users provision` and pass --users-file, "
                              f"{_UNTHROTTLE}")
    elif plan.mode == "session":
        if short := _short(scopes.get("login"), plan.peak_users):
            raise TargetError(f"the login throttle on {where} allows {short[0]} more login(s) from this "
                              f"address ({short[1]}), and each of up to {plan.peak_users} virtual user(s) logs in",
                              f"use auth: token (one app token per account), {_UNTHROTTLE}")
    elif plan.mode == "token":
        first = next((a for a in plan.accounts if a.token is None), None)
        if first is None:
            return
        own = _rate_limits(http, host, (first.username, first.password.get_secret_value())) or {}
        if short := _short(own.get("authenticated-oauth-app"), plan.processes):
            raise TargetError(f"account {first.username!r} can create {short[0]} more app token(s) on {where} "
                              f"({short[1]}), and each of the {plan.processes} load process(es) creates one per account "
                              "without a token",
                              f"keep a token per account in the users file: `fwload users tokens --users-file "
                              f"FILE --host {where}`, {_UNTHROTTLE}")


def _short(scope: dict | None, needed: int) -> tuple[int, str] | None:
    """``(remaining, rate)`` when the scope has fewer than ``needed`` left, else None."""
    remaining = scope.get("remaining") if scope else None
    if scope and isinstance(remaining, int) and remaining < needed:
        return remaining, str(scope.get("rate"))
    return None


def _unknown_host(error: Exception) -> bool:
    text = str(error)
    return any(marker in text for marker in ("Name or service not known", "nodename nor servname",
                                             "No address associated with hostname", "Temporary failure in name"))


def _reason(error: Exception) -> str:
    text = str(error)
    for marker in ("Connection refused", "Name or service not known", "timed out", "Connection reset"):
        if marker in text:
            return marker.lower()
    return type(error).__name__
