"""The Funkwhale virtual user every user class builds on: authentication, calls, streaming.

Built from funkwhale-api.md only. Defaults follow §1.9: one app token per account (Bearer,
cheap for the server) obtained once with HTTP Basic; session login (form + CSRF, as the web
UI) and plain Basic on every request are options of the scenario's target.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gevent
from gevent.lock import Semaphore
from gevent.event import AsyncResult
from locust import FastHttpUser
from locust.exception import StopUser
from locust.user.users import LOCUST_STATE_RUNNING, LOCUST_STATE_STOPPING, LOCUST_STATE_WAITING
from pydantic import SecretStr

from fwload.funkwhale import api, paths
from fwload.funkwhale.accounts import Account, AccountPool
from fwload.recording import measurements
from fwload.users import connections
from fwload.users.options import _Options
from fwload.users.player import AudioSource, Player, PlayResult
from fwload.users.sessions import Session, SlotPool, record

connections.install()

MAX_THROTTLE_RETRIES = 3
MAX_RETRY_AFTER_S = 60.0


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] | None = None
    ok: bool = False
    refused: bool = False
    """The server refused the request in one of the ways the caller expected (``refusals``)."""


logger = logging.getLogger("fwload")
_LOGGED_STOPS: set[tuple[str, str]] = set()
"""(user class, reason) already logged by this process: each reason is logged once, counted always."""


class CannotStart(Exception):
    """A virtual user cannot authenticate; the message is the reason, recorded in the run."""


def refusal(what: str, reply: Reply) -> str:
    """``session login throttled (HTTP 500, scope login, Retry-After 3600 s)``, or ``... failed (HTTP 403)``."""
    throttle = api.throttle_of(reply.status, reply.headers)
    if throttle is not None:
        return (f"{what} throttled (HTTP {reply.status}, scope {throttle.scope or '?'}, "
                f"Retry-After {throttle.retry_after_s:g} s)")
    return f"{what} failed ({f'HTTP {reply.status}' if reply.status else 'no answer'})"


@functools.cache
def _group_context(group: str) -> dict[str, str]:
    """One shared, never mutated context per request group (built once, used per request)."""
    return {"group": group}


@functools.cache
def _refusal_context(group: str, refusals: tuple[int, ...]) -> dict[str, Any]:
    """A group's context that tells the recorder which statuses are an expected refusal."""
    return {"group": group, "refusals": refusals}


@dataclass(slots=True)
class AuthSettings:
    """How virtual users authenticate; set once per process by the plugin."""

    mode: str = "token"
    accounts: AccountPool | None = None
    register: bool = True
    tokens: dict[str, str] = field(default_factory=dict)
    locks: dict[str, Semaphore] = field(default_factory=dict)
    subsonic_tokens: dict[str, str] = field(default_factory=dict)


class FunkwhaleUser(FastHttpUser):
    """Base class: not run by itself (``abstract``)."""

    abstract = True
    network_timeout = 30.0
    connection_timeout = 30.0
    options: ClassVar[_Options] = _Options()
    arrivals: ClassVar[SlotPool | None] = None
    """Set in an arrivals run: this process's slot pool (every user is then a slot)."""
    auth_settings: ClassVar[AuthSettings] = AuthSettings()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._context = {"user_class": type(self).__name__}
        self.account: Account | None = None
        self.listen_token: str | None = None
        self._auth_header: dict[str, str] = {}
        self.session: Session | None = None
        self._waiter: AsyncResult | None = None
        self._pool: SlotPool | None = None

    # -- Locust hooks ---------------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        return self._context

    def wait_time(self) -> float:
        low, high = self.options.wait
        think = random.uniform(low, high)
        session = self.session
        if session is None:
            return think
        session.iterations += 1
        now = time.time()
        if session.max_iterations is None or session.iterations < session.max_iterations:
            if now + think < session.ends_at:
                return think
            gevent.sleep(max(session.ends_at - now, 0.0))  # the person thinks until they leave
        self._end_session("completed", "", min(session.ends_at, time.time()))
        self._live_next_session()
        self._state = LOCUST_STATE_WAITING  # as TaskSet.wait left it
        return 0.0

    def on_start(self) -> None:
        """Authenticate (or, in an arrivals run, join the idle slots); a user that cannot
        authenticate is stopped cleanly with its reason recorded.

        Locust logs a traceback for any exception out of ``on_start``, StopUser included, so
        the user asks to stop instead (``User.stop``: it ends before its first task)."""
        if self.arrivals is None:
            try:
                self.authenticate()
            except CannotStart as refused:
                self._stop_before_first_task(str(refused))
            return
        self._pool = self.arrivals
        self._pool.join(type(self).__name__)
        self._live_next_session()

    def _stop_before_first_task(self, reason: str) -> None:
        name = type(self).__name__
        measurements.user_stopped.fire(user_class=name, reason=reason)
        if (name, reason) not in _LOGGED_STOPS:
            _LOGGED_STOPS.add((name, reason))
            logger.warning("fwload: %s user stopped before its first task: %s", name, reason)
        self.stop()

    def on_stop(self) -> None:
        """In an arrivals run: a session the run's end cut short is recorded as ``cut``."""
        if self._pool is None:
            return
        if self.session is not None:
            self._end_session("cut", "run_end")
        elif self._waiter is not None and self._waiter.ready():
            record(self._waiter.get(), "cut", "run_end", type(self).__name__)
        self._pool.leave(type(self).__name__, self._waiter)
        self._pool = None

    # -- open arrivals ---------------------------------------------------------------------

    def session_remaining(self) -> float:
        """Seconds left in the current session (infinite outside arrivals or with iterations only).

        A long activity (a real-time play) checks it to stop midway when the person leaves.
        """
        return self.session.ends_at - time.time() if self.session is not None else math.inf

    def _live_next_session(self) -> None:
        """Idle until the scheduler hands this slot a session, then open it (the app's first
        calls, logging in on the slot's first session). Killable while idle, as Locust's own waits.

        Locust kills a user at once only while it waits (``_state`` waiting, as TaskSet.wait
        sets it): an idle slot must not hold up the end of the run for ``--stop-timeout``.
        """
        pool, name = self._pool, type(self).__name__
        assert pool is not None
        while True:
            self._state = LOCUST_STATE_WAITING
            self._waiter = AsyncResult()
            session = pool.wait(name, self._waiter)
            self._waiter = None
            if self._state == LOCUST_STATE_STOPPING:
                record(session, "cut", "run_end", name)
                raise StopUser()
            self._state = LOCUST_STATE_RUNNING
            session.begin(time.time())
            self.session = session
            try:
                self._open_session(session)
            except (StopUser, CannotStart):
                self._end_session("failed", "login")
                continue
            if self._state == LOCUST_STATE_STOPPING:
                raise StopUser()
            return

    def _open_session(self, session: Session) -> None:
        """What the web app does when a person opens it: instance info, then (first session of
        the slot) log in, or (a slot already logged in) ask who is logged in."""
        session.first_ts = self.open_app()
        if self.listen_token is None:
            self.log_in()
        else:
            self._refresh_listen_token()

    def _end_session(self, outcome: str, reason: str, ended_ts: float | None = None) -> None:
        session, self.session = self.session, None
        if session is not None:
            record(session, outcome, reason, type(self).__name__, ended_ts)

    # -- authentication ----------------------------------------------------------------

    def authenticate(self) -> None:
        """Open the app like the web client (instance info first), then get credentials; a
        user that cannot log in is stopped, not looped (`CannotStart` says why)."""
        self.open_app()
        self.log_in()

    def open_app(self) -> float:
        """The web client's first calls, before anyone is logged in; returns when the first was answered."""
        self.call("GET", paths.NODEINFO, group="instance", authenticated=False)
        first_answer = time.time()
        self.call("GET", paths.INSTANCE_SETTINGS, group="instance", authenticated=False)
        return first_answer

    def log_in(self) -> None:
        """Get credentials and the listen token; a user that cannot log in is stopped, not
        looped (in an arrivals run: its session fails and the slot waits for the next one).
        Registration on 1.4 already opens a session (sample 06): a session-mode user it
        created spends no login (30/hour per address)."""
        settings = self.auth_settings
        self.account = self._pick_account()
        if settings.mode == "session":
            if not self._cookie(api.SESSION_COOKIE):
                self._session_login(self.account)
        elif settings.mode == "basic":
            self._auth_header = {}
        else:
            token = self._app_token(self.account)
            self._auth_header = {"Authorization": f"Bearer {token}"}
        me = self.call("GET", paths.USERS_ME, group="auth", parse=api.parse_listen_token)
        if not me.ok:
            raise CannotStart(refusal("users/me", me))
        self.listen_token = me.body

    def _pick_account(self) -> Account:
        """The next account of the users file, else a newly registered one."""
        settings = self.auth_settings
        if settings.accounts is not None:
            return settings.accounts.next()
        if settings.register:
            return self._register()
        raise CannotStart("no account: no users file, and registering accounts is off")

    def _register(self) -> Account:
        username, password = api.new_username(), api.new_password()
        reply = self.call("POST", paths.REGISTRATION, group="auth", expect=(201,),
                          json=api.registration_body(username, password), authenticated=False)
        if self.auth_settings.mode != "session":
            self.client.cookiejar.clear()
        if not reply.ok:
            raise CannotStart(refusal("registration", reply))
        return Account(username, SecretStr(password))

    def _app_token(self, account: Account) -> str:
        """The account's token from the users file, else one app per account and process."""
        if account.token is not None:
            return account.token.get_secret_value()
        settings = self.auth_settings
        lock = settings.locks.setdefault(account.username, Semaphore())
        with lock:
            token = settings.tokens.get(account.username)
            if token is None:
                reply = self.call("POST", paths.OAUTH_APPS, group="auth", expect=(201,), json=api.app_body(),
                                  parse=api.parse_app_token, basic=account, authenticated=False)
                if not reply.ok:
                    raise CannotStart(refusal("app token creation", reply))
                token = settings.tokens[account.username] = reply.body
            return token

    def _session_login(self, account: Account) -> None:
        """Form login with CSRF, as the web UI: the csrftoken cookie comes from nodeinfo."""
        if self._csrf_token() is None:
            self.call("GET", paths.NODEINFO, group="instance", authenticated=False)
        csrf = self._csrf_token()
        if csrf is None:
            raise CannotStart("session login impossible: nodeinfo set no csrftoken cookie")
        reply = self.call("POST", paths.LOGIN, group="auth", authenticated=False,
                          headers={api.CSRF_HEADER: csrf, "Referer": self._referer()},
                          data=api.login_form(account.username, account.password.get_secret_value()))
        if not reply.ok:
            raise CannotStart(refusal("session login", reply))

    def _referer(self) -> str:
        """Django also checks the Referer of unsafe requests over HTTPS (§1.2)."""
        return f"{self.host.rstrip('/')}/"

    def _csrf_token(self) -> str | None:
        return self._cookie(api.CSRF_COOKIE)

    def _cookie(self, name: str) -> str | None:
        for cookie in self.client.cookiejar:
            if cookie.name == name:
                return cookie.value
        return None

    def _basic_auth(self) -> tuple[str, str] | None:
        """HTTP Basic on every request (mode ``basic``): a password hash per request on real 1.4."""
        if self.auth_settings.mode == "basic" and self.account is not None:
            return self.account.username, self.account.password.get_secret_value()
        return None

    def _auth_headers(self, method: str) -> dict[str, str]:
        if self.auth_settings.mode == "session":
            if method in ("GET", "HEAD"):
                return {}
            csrf = self._csrf_token()
            return {api.CSRF_HEADER: csrf, "Referer": self._referer()} if csrf else {}
        return self._auth_header

    # -- calls ---------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        group: str,
        name: str | None = None,
        expect: tuple[int, ...] = (200,),
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        parse: Callable[[Any], Any] | None = None,
        authenticated: bool = True,
        basic: Account | None = None,
        refusals: tuple[int, ...] = (),
    ) -> Reply:
        """One API call, recorded by Locust; a 429 waits ``Retry-After`` and tries again, unless
        the wait is longer than a run can afford (signup, login and app creation are throttled
        per hour or day): then the throttled answer is the result.

        ``parse`` turns the JSON body into what the caller needs (an `api` function); when it
        raises `api.UnexpectedAnswer`, the request is a failure of kind ``unexpected``. Without
        it the body is not decoded: the status alone is judged (decoding costs CPU per request).

        A throttled answer is recorded as a failure of kind ``throttled`` (see
        `fwload.recording.classify`), never as slowness, and the wait is not measured.

        ``refusals`` are statuses the caller provoked on purpose (a deliberately bad file's
        upload): such an answer is a success for Locust, ``Reply.refused`` for the caller, and
        error kind ``rejected`` in requests.csv, which the error ratio leaves out.
        """
        all_headers = self._auth_headers(method) if authenticated else {}
        if headers:
            all_headers = {**all_headers, **headers}
        auth = (basic.username, basic.password.get_secret_value()) if basic else None
        if authenticated and auth is None:
            auth = self._basic_auth()
        context = _refusal_context(group, refusals) if refusals else _group_context(group)
        for attempt in range(MAX_THROTTLE_RETRIES + 1):
            with self.client.request(
                method, path, name=name or path, params=params, json=json, data=data, files=files,
                headers=all_headers, auth=auth, catch_response=True, context=context,
            ) as response:
                reply = self._judge(response, expect, parse, refusals)
            if reply.ok or attempt == MAX_THROTTLE_RETRIES:
                return reply
            throttle = api.throttle_of(reply.status, reply.headers)
            if throttle is None:
                return reply
            measurements.throttled.fire(group=group, retry_after_s=throttle.retry_after_s, scope=throttle.scope)
            if throttle.retry_after_s > MAX_RETRY_AFTER_S:
                return reply
            gevent.sleep(max(throttle.retry_after_s, 0.5))
        return reply

    @staticmethod
    def _judge(response: Any, expect: tuple[int, ...], parse: Callable[[Any], Any] | None,
               refusals: tuple[int, ...] = ()) -> Reply:
        status = response.status_code or 0
        reply = Reply(status=status, headers=response.headers)
        if status in refusals and api.throttle_of(status, response.headers) is None:
            reply.refused = True
            response.success()
            return reply
        if status not in expect:
            if status and status < 400:
                response.failure(f"expected HTTP {'/'.join(map(str, expect))}, got {status}")
            elif status:
                response.failure(f"HTTP {status}{api.error_code(response.content) if status == 400 else ''}")
            return reply
        if parse is not None:
            try:
                body = json.loads(response.content or b"null")
            except ValueError:
                response.failure("answer is not JSON")
                return reply
            try:
                reply.body = parse(body)
            except api.UnexpectedAnswer as error:
                response.failure(f"{error.prefix}{error}")
                return reply
            except (KeyError, TypeError, ValueError) as error:
                response.failure(f"{api.UnexpectedAnswer.prefix}{error}")
                return reply
        reply.ok = True
        response.success()
        return reply

    # -- playing ---------------------------------------------------------------------------

    def audio_source(self, track: api.TrackRef, transcode: api.Transcode | None = None) -> AudioSource:
        """What the web player fetches for ``track``: its ``listen_url``, authenticated with the
        user's credentials, or with ``?token=<tokens.listen>`` as the web player's <audio> does.
        ``transcode`` asks for another format or a bitrate cap (named in the request name and the
        play's ``transcode``): the size and rate are then the answer's, not the upload's."""
        token = self.listen_token if getattr(self.options, "listen_token", False) else None
        return AudioSource(
            path=api.listen_path(track.listen_url, token, transcode), name=api.listen_name(paths.LISTEN_TEMPLATE, transcode),
            track=track.id, headers={} if token else self._auth_headers("GET"), basic=None if token else self._basic_auth(),
            duration_s=track.duration_s, bitrate_bps=None if transcode else track.bitrate_bps,
            size=None if transcode else track.size, transcode=transcode.label if transcode else "",
        )

    def play(self, track: api.TrackRef, on_listened: Callable[[], Any] | None = None,
             transcode: api.Transcode | None = None) -> PlayResult:
        """Play ``track`` as the options say (`fwload.users.player`): in real time, ``on_listened``
        is called when the play counts as a listening; every request and the play are recorded."""
        result = Player(self, self.options).play(self.audio_source(track, transcode), on_listened)
        if result.status == 401 and getattr(self.options, "listen_token", False):
            self._refresh_listen_token()
        return result

    def record_listening(self, track: api.TrackRef) -> None:
        self.call("POST", paths.LISTENINGS, group="history", expect=(201,), json=api.track_body(track.id))

    def _refresh_listen_token(self) -> None:
        """A listen token lasts 3 days and dies with a password change (§1.1): after a refused
        play, ask ``users/me`` for the current one, so a long soak does not fail every play after."""
        me = self.call("GET", paths.USERS_ME, group="auth", parse=api.parse_listen_token)
        if me.ok and me.body:
            self.listen_token = me.body
