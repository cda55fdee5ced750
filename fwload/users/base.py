"""The Funkwhale virtual user every user class builds on: authentication, calls, streaming.

Built from funkwhale-api.md only. Defaults follow §1.9: one app token per account (Bearer,
cheap for the server) obtained once with HTTP Basic; session login (form + CSRF, as the web
UI) and plain Basic on every request are options of the scenario's target.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gevent
from gevent.lock import Semaphore
from locust import FastHttpUser, constant_pacing
from locust.exception import StopUser
from pydantic import SecretStr

from fwload.funkwhale import api, paths
from fwload.funkwhale.accounts import Account, AccountPool
from fwload.recording import measurements
from fwload.scenario.pacing import pacing_interval
from fwload.users import connections
from fwload.users.options import _Options
from fwload.users.player import AudioSource, Player, PlayResult

connections.install()

MAX_THROTTLE_RETRIES = 3
MAX_RETRY_AFTER_S = 60.0


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] | None = None
    ok: bool = False


@functools.cache
def _group_context(group: str) -> dict[str, str]:
    """One shared, never mutated context per request group (built once, used per request)."""
    return {"group": group}


class PacingPlan:
    """Arrival-rate mode: each user's iteration interval follows the whole run's user count.

    Every user iterates every ``users / iterations_per_s`` seconds, where ``users`` is what
    the schedule runs at this moment (all workers together), so steps and ramps keep the rate.
    """

    def __init__(self, schedule: Any, scenario: Any):
        self.schedule = schedule
        self.scenario = scenario
        self.started = time.monotonic()

    def interval(self) -> float | None:
        tick = self.schedule.at(time.monotonic() - self.started)
        return pacing_interval(self.scenario, tick.users) if tick is not None else None


@dataclass(slots=True)
class AuthSettings:
    """How virtual users authenticate; set once per process by the plugin."""

    mode: str = "token"
    accounts: AccountPool | None = None
    register: bool = True
    tokens: dict[str, str] = field(default_factory=dict)
    locks: dict[str, Semaphore] = field(default_factory=dict)


class FunkwhaleUser(FastHttpUser):
    """Base class: not run by itself (``abstract``)."""

    abstract = True
    network_timeout = 30.0
    connection_timeout = 30.0
    options: ClassVar[_Options] = _Options()
    pacing: ClassVar[PacingPlan | None] = None
    auth_settings: ClassVar[AuthSettings] = AuthSettings()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._context = {"user_class": type(self).__name__}
        self.account: Account | None = None
        self.listen_token: str | None = None
        self._auth_header: dict[str, str] = {}

    # -- Locust hooks ---------------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        return self._context

    def wait_time(self) -> float:
        measurements.iteration_done.fire()
        interval = self.pacing.interval() if self.pacing is not None else None
        if interval:
            return constant_pacing(interval)(self)
        low, high = self.options.wait
        return random.uniform(low, high)

    def on_start(self) -> None:
        self.authenticate()

    # -- authentication ----------------------------------------------------------------

    def authenticate(self) -> None:
        """Open the app like the web client (instance info first), then get credentials; a
        user that cannot log in is stopped, not looped. Registration on 1.4 already opens a
        session (sample 06): a session-mode user it created spends no login (30/hour per address)."""
        self.call("GET", paths.NODEINFO, group="instance", authenticated=False)
        self.call("GET", paths.INSTANCE_SETTINGS, group="instance", authenticated=False)
        settings = self.auth_settings
        if settings.accounts is not None:
            self.account = settings.accounts.next()
        elif settings.register:
            self.account = self._register()
        else:
            raise StopUser()
        if self.account is None:
            raise StopUser()
        if settings.mode == "session":
            if not self._cookie(api.SESSION_COOKIE) and not self._session_login(self.account):
                raise StopUser()
        elif settings.mode == "basic":
            self._auth_header = {}
        else:
            token = self._app_token(self.account)
            if token is None:
                raise StopUser()
            self._auth_header = {"Authorization": f"Bearer {token}"}
        me = self.call("GET", paths.USERS_ME, group="auth", parse=api.parse_listen_token)
        if not me.ok:
            raise StopUser()
        self.listen_token = me.body

    def _register(self) -> Account | None:
        username, password = api.new_username(), api.new_password()
        reply = self.call("POST", paths.REGISTRATION, group="auth", expect=(201,),
                          json=api.registration_body(username, password), authenticated=False)
        if self.auth_settings.mode != "session":
            self.client.cookiejar.clear()
        return Account(username, SecretStr(password)) if reply.ok else None

    def _app_token(self, account: Account) -> str | None:
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
                    return None
                token = settings.tokens[account.username] = reply.body
            return token

    def _session_login(self, account: Account) -> bool:
        """Form login with CSRF, as the web UI: the csrftoken cookie comes from nodeinfo."""
        if self._csrf_token() is None:
            self.call("GET", paths.NODEINFO, group="instance", authenticated=False)
        csrf = self._csrf_token()
        if csrf is None:
            return False
        reply = self.call("POST", paths.LOGIN, group="auth", authenticated=False,
                          headers={api.CSRF_HEADER: csrf, "Referer": self._referer()},
                          data=api.login_form(account.username, account.password.get_secret_value()))
        return reply.ok

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
    ) -> Reply:
        """One API call, recorded by Locust; a 429 waits ``Retry-After`` and tries again, unless
        the wait is longer than a run can afford (signup, login and app creation are throttled
        per hour or day): then the throttled answer is the result.

        ``parse`` turns the JSON body into what the caller needs (an `api` function); when it
        raises `api.UnexpectedAnswer`, the request is a failure of kind ``unexpected``. Without
        it the body is not decoded: the status alone is judged (decoding costs CPU per request).

        A throttled answer is recorded as a failure of kind ``throttled`` (see
        `fwload.recording.classify`), never as slowness, and the wait is not measured.
        """
        all_headers = self._auth_headers(method) if authenticated else {}
        if headers:
            all_headers = {**all_headers, **headers}
        auth = (basic.username, basic.password.get_secret_value()) if basic else None
        if authenticated and auth is None:
            auth = self._basic_auth()
        for attempt in range(MAX_THROTTLE_RETRIES + 1):
            with self.client.request(
                method, path, name=name or path, params=params, json=json, data=data, files=files,
                headers=all_headers, auth=auth, catch_response=True, context=_group_context(group),
            ) as response:
                reply = self._judge(response, expect, parse)
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
    def _judge(response: Any, expect: tuple[int, ...], parse: Callable[[Any], Any] | None) -> Reply:
        status = response.status_code or 0
        reply = Reply(status=status, headers=response.headers)
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
            except (api.UnexpectedAnswer, KeyError, TypeError, ValueError) as error:
                response.failure(f"unusable answer: {error}")
                return reply
        reply.ok = True
        response.success()
        return reply

    # -- playing ---------------------------------------------------------------------------

    def audio_source(self, track: api.TrackRef) -> AudioSource:
        """What the web player fetches for ``track``: its ``listen_url``, authenticated with the
        user's credentials, or with ``?token=<tokens.listen>`` as the web player's <audio> does."""
        token = self.listen_token if getattr(self.options, "listen_token", False) else None
        return AudioSource(
            path=api.listen_path(track.listen_url, token), name=paths.LISTEN_TEMPLATE, track=track.id,
            headers={} if token else self._auth_headers("GET"), basic=None if token else self._basic_auth(),
            duration_s=track.duration_s, bitrate_bps=track.bitrate_bps, size=track.size,
        )

    def play(self, track: api.TrackRef, on_listened: Callable[[], Any] | None = None) -> PlayResult:
        """Play ``track`` as the options say (`fwload.users.player`): in real time, ``on_listened``
        is called when the play counts as a listening; every request and the play are recorded."""
        result = Player(self, self.options).play(self.audio_source(track), on_listened)
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
