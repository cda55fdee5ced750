"""``fwload users provision``: make load-test accounts and write the users file.

Two ways, as funkwhale-api.md §1.8 documents them: open registration over HTTP (anyone can
run it, but Funkwhale ships it closed and throttles signups to 10 a day per address), or
``funkwhale-manage`` in the api pod (needs exec rights; no throttle, emails pre-verified).
Passwords are generated here, shown nowhere, and written only to the users file (mode 0600,
written atomically). If creation stops part-way, the accounts that exist are still written,
so no created account is left without its password.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import requests
import typer
import yaml

from fwload.cli.app import app, console, handles_errors, stdout_line
from fwload.errors import TargetError, UsageError
from fwload.funkwhale import paths
from fwload.funkwhale.accounts import load_users_file
from fwload.funkwhale.api import (
    UnexpectedAnswer,
    app_body,
    new_password,
    new_username,
    nodeinfo_summary,
    parse_app_token,
    rate_limit_summary,
    registration_body,
    throttle_of,
)
from fwload.kube.accounts import ProvisioningStopped, create_accounts
from fwload.kube.client import load_api_client

HTTP_TIMEOUT_S = 15.0
_PREFIX = re.compile(r"^[A-Za-z0-9_]{1,20}$")
_OPEN_REGISTRATION_FIX = (
    "as an admin, enable 'users__registration_enabled' (Settings → Users, or POST "
    f"{paths.ADMIN_SETTINGS_BULK} {{\"users__registration_enabled\": true}}), or use --mode manage"
)
_THROTTLE_FIX = ("use --mode manage (no signup throttle), or run the api with THROTTLING_ENABLED=false "
                 "or THROTTLING_RATES=signup=1000/day while provisioning")

users_app = typer.Typer(help="Load-test accounts on the target.", no_args_is_help=True)
app.add_typer(users_app, name="users")


class Mode(StrEnum):
    registration = "registration"
    manage = "manage"


@users_app.command("provision")
@handles_errors
def provision(
    count: int = typer.Option(..., "--count", min=1, max=10_000, help="How many accounts to create."),
    out: Path = typer.Option(..., "--out",
                             help="Users file to write (YAML users: [{username, password}], mode 0600)."),
    mode: Mode = typer.Option(Mode.registration, "--mode", help="registration: POST the open signup form "
                              "(needs --host); manage: funkwhale-manage in the api pod (needs exec rights)."),
    host: str = typer.Option("", "--host", help="Funkwhale base URL: needed by --mode registration; with "
                             "either mode each account also gets an app token, kept in the users file."),
    namespace: str = typer.Option("funkwhale", "--namespace", "-n",
                                  help="Namespace of the api pod (--mode manage)."),
    context: str = typer.Option("", "--context", help="kubeconfig context (--mode manage)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig", help="kubeconfig file (--mode manage)."),
    prefix: str = typer.Option("fwl", "--prefix", help="Start of every username (letters, digits, _)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing users file."),
) -> None:
    """Create COUNT accounts and write their usernames and passwords to --out."""
    if not _PREFIX.match(prefix):
        raise UsageError(f"--prefix {prefix!r} cannot start a Funkwhale username",
                         "use 1-20 ASCII letters, digits or underscores")
    _check_writable(out, force)
    accounts = [(new_username(prefix), new_password()) for _ in range(count)]
    try:
        if mode is Mode.registration:
            created = register_accounts(_base_url(host), accounts)
        else:
            api_client = load_api_client(kubeconfig, context or None)
            try:
                created = create_accounts(api_client, namespace, accounts)
            finally:
                api_client.close()
    except ProvisioningStopped as stopped:
        if stopped.created:
            write_users_file(out, [a for a in accounts if a[0] in set(stopped.created)])
            stopped.problem += f"; the {len(stopped.created)} account(s) created are in {out}"
        raise
    kept = [a for a in accounts if a[0] in set(created)]
    tokens = issue_app_tokens(_base_url(host), kept) if host else {}
    write_users_file(out, kept, tokens)
    console.print(f"created {len(created)} account(s) by {mode.value}; usernames, passwords"
                  f"{' and app tokens' if tokens else ''} are in {out} (mode 0600, nowhere else)")
    stdout_line(str(out))


@users_app.command("tokens")
@handles_errors
def tokens(
    users_file: Path = typer.Option(..., "--users-file", help="Users file to complete (rewritten in place)."),
    host: str = typer.Option(..., "--host", help="Funkwhale base URL."),
) -> None:
    """Give every account of a users file an app token, kept in the file.

    Without one, each load process creates an app per account at every run, and real 1.4
    lets an account create only 10 apps an hour (authenticated-oauth-app)."""
    accounts = load_users_file(users_file)
    missing = [(a.username, a.password.get_secret_value()) for a in accounts if a.token is None]
    issued = issue_app_tokens(_base_url(host), missing) if missing else {}
    if issued:
        known = {a.username: a.token.get_secret_value() for a in accounts if a.token is not None}
        subsonic = {a.username: a.subsonic_token.get_secret_value() for a in accounts if a.subsonic_token}
        write_users_file(users_file, [(a.username, a.password.get_secret_value()) for a in accounts],
                         {**known, **issued}, subsonic)
    console.print(f"{len(issued)} app token(s) added to {users_file}; "
                  f"{len(accounts) - len(missing)} account(s) already had one")
    stdout_line(str(users_file))


def register_accounts(base_url: str, accounts: list[tuple[str, str]]) -> list[str]:
    """Register each account through open registration; checks first that it can succeed."""
    created: list[str] = []
    with requests.Session() as session:
        _check_registration_open(session, base_url, len(accounts))
        for index, (username, password) in enumerate(accounts, start=1):
            response = _send(session, "POST", base_url + paths.REGISTRATION,
                             json=registration_body(username, password), created=created)
            session.cookies.clear()  # a signup logs in; the next one must stay anonymous (no CSRF)
            if response.status_code == 201:
                created.append(username)
                if index % 10 == 0 or index == len(accounts):
                    console.print(f"registered {index}/{len(accounts)}")
                continue
            raise _registration_refused(response, base_url, created, len(accounts))
    return created


def issue_app_tokens(base_url: str, accounts: list[tuple[str, str]]) -> dict[str, str]:
    """One app per account, created with HTTP Basic (§1.3): ``{username: token}``.

    Stops at the first refusal (a throttle refuses the rest too) and says how many accounts
    are left without a token; those still work, creating an app when a run starts.
    """
    issued: dict[str, str] = {}
    with requests.Session() as session:
        for username, password in accounts:
            try:
                response = _send(session, "POST", base_url + paths.OAUTH_APPS, json=app_body(),
                                 auth=(username, password))
            except TargetError as error:
                response, why = None, error.problem
            token = _app_token_of(response) if response is not None else None
            if token:
                issued[username] = token
            else:
                if response is not None:
                    throttle = throttle_of(response.status_code, response.headers)
                    why = (f"throttled, retry in {throttle.retry_after_s:.0f} s" if throttle is not None
                           else f"HTTP {response.status_code}: {_error_detail(response)}")
                console.print(f"[yellow]notice:[/] app token for {username!r} refused ({why}); "
                              f"{len(accounts) - len(issued)} account(s) have none: add them later with "
                              "`fwload users tokens`", highlight=False)
                break
    return issued


def _app_token_of(response: requests.Response) -> str | None:
    if response.status_code != 201:
        return None
    try:
        return parse_app_token(response.json())
    except (ValueError, UnexpectedAnswer):
        return None


def _check_registration_open(session: requests.Session, base_url: str, count: int) -> None:
    response = _send(session, "GET", base_url + paths.NODEINFO)
    try:
        info = nodeinfo_summary(response.json() if response.status_code == 200 else None)
    except (ValueError, UnexpectedAnswer):
        raise TargetError(f"{base_url}{paths.NODEINFO} answered {response.status_code} without Funkwhale "
                          "nodeinfo", "check --host: the Funkwhale base URL, as typed in a browser") from None
    if not info["open_registrations"]:
        raise TargetError(f"registration is closed on {base_url} (nodeinfo openRegistrations: false)",
                          _OPEN_REGISTRATION_FIX)
    limits = _send(session, "GET", base_url + paths.RATE_LIMIT)
    try:
        enabled, scopes = rate_limit_summary(limits.json()) if limits.status_code == 200 else (False, [])
    except (ValueError, UnexpectedAnswer):
        enabled, scopes = False, []
    signup = next((s for s in scopes if s.get("id") == "signup"), None)
    remaining = signup.get("remaining") if signup else None
    if enabled and isinstance(remaining, int) and remaining < count:
        raise TargetError(f"the signup throttle on {base_url} allows {remaining} more registration(s) from "
                          f"this address now (rate {signup.get('rate')}); asked for {count}", _THROTTLE_FIX)


def _registration_refused(response: requests.Response, base_url: str, created: list[str],
                          wanted: int) -> ProvisioningStopped:
    after = f"after {len(created)} of {wanted} account(s)"
    throttle = throttle_of(response.status_code, response.headers)
    if throttle is not None:
        wait = f"retry in {throttle.retry_after_s:.0f} s, scope {throttle.scope or 'signup'}"
        return ProvisioningStopped(f"registration was throttled {after} ({wait})", _THROTTLE_FIX, created)
    detail = _error_detail(response)
    if response.status_code == 403:
        fix = _OPEN_REGISTRATION_FIX if "disabled" in detail.lower() else "check the api's logs; retry later"
        return ProvisioningStopped(f"registration was refused {after}: {detail}", fix, created)
    if response.status_code == 400:
        return ProvisioningStopped(f"{base_url} rejected a registration {after}: {detail}",
                                   "retry with another --prefix (usernames: unused word characters)", created)
    return ProvisioningStopped(f"{base_url} answered {response.status_code} to a registration {after}: "
                               f"{detail}", "check the api's logs (`kubectl logs deploy/api`)", created)


def _error_detail(response: requests.Response) -> str:
    """The server's reason, without echoing anything we sent (the body never holds passwords)."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:200]
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])
        return "; ".join(f"{field}: {' '.join(map(str, errs)) if isinstance(errs, list) else errs}"
                         for field, errs in body.items() if "password" not in field)[:300]
    return str(body)[:200]


def _send(session: requests.Session, method: str, url: str, *, created: list[str] | None = None,
          **kwargs: object) -> requests.Response:
    try:
        return session.request(method, url, timeout=HTTP_TIMEOUT_S, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as error:
        problem = f"cannot reach {url}: {type(error).__name__}"
        fix = "check --host and that the server answers (curl it from this machine)"
        if created:
            raise ProvisioningStopped(problem + f" after {len(created)} account(s)", fix, created) from None
        raise TargetError(problem, fix) from None


def _base_url(host: str) -> str:
    parts = urlsplit(host.strip())
    if not host:
        raise UsageError("--mode registration needs --host", "pass the Funkwhale base URL, e.g. "
                         "--host https://funkwhale.example.org, or use --mode manage")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise UsageError(f"--host {host!r} is not a base URL without credentials",
                         "write it like https://funkwhale.example.org")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _check_writable(out: Path, force: bool) -> None:
    """Refuse before any account exists if the file could not be written afterwards."""
    if out.exists() and not force:
        raise UsageError(f"{out} already exists (its accounts would lose their passwords)",
                         "choose another --out, or pass --force to replace it")
    if out.is_dir():
        raise UsageError(f"{out} is a folder", "give --out a file name, e.g. users.yaml")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write into {folder}", "choose an --out in an existing, writable folder")


def write_users_file(out: Path, accounts: list[tuple[str, str]], tokens: dict[str, str] | None = None,
                     subsonic_tokens: dict[str, str] | None = None) -> None:
    """``users: [{username, password, token?, subsonic_token?}]`` (CSV for a ``.csv`` name),
    readable by its owner only, replaced atomically."""
    tokens, subsonic = tokens or {}, subsonic_tokens or {}
    rows = [{"username": u, "password": p, **({"token": tokens[u]} if u in tokens else {}),
             **({"subsonic_token": subsonic[u]} if u in subsonic else {})} for u, p in accounts]
    if out.suffix.lower() == ".csv":
        buffer = io.StringIO()
        columns = ["username", "password", *(["token"] if tokens else []),
                   *(["subsonic_token"] if subsonic else [])]
        writer = csv.DictWriter(buffer, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        text = yaml.safe_dump({"users": rows}, sort_keys=False)
    folder = out.parent if str(out.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
