"""Load-test accounts: the users file, and how virtual users share its accounts.

A users file is YAML (``users: [{username, password, token}, ...]``, as written by
``fwload users provision``) or CSV with a ``username,password[,token][,subsonic_token]``
header. ``token`` is optional: an app token (§1.4) made once per account. Real 1.4 lets an
account create only 10 apps an hour, so a token kept in the file spares every run and every
load process from creating another. ``subsonic_token`` (optional) is the account's Subsonic
password, as a Subsonic app is configured with it; without it a `SubsonicListener` reads or
makes one. Passwords and tokens are `SecretStr` so they never print.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import SecretStr

from fwload.errors import UsageError

_FIX = "write it as YAML `users: [{username: ..., password: ...}]` or CSV with a username,password header"


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    password: SecretStr
    token: SecretStr | None = None
    subsonic_token: SecretStr | None = None

    def __repr__(self) -> str:
        return f"Account({self.username!r})"


def load_users_file(path: str | Path) -> list[Account]:
    """Read and check a users file; every problem is one `UsageError` naming the file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"users file {file} does not exist", "create it with `fwload users provision` "
                         "or point --users-file at an existing file") from None
    except OSError as error:
        raise UsageError(f"users file {file} cannot be read: {error.strerror}", "check its permissions") from None
    rows = _parse_csv(text) if file.suffix.lower() == ".csv" else _parse_yaml(text, file)
    accounts = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not row.get("username") or not row.get("password"):
            raise UsageError(f"users file {file}: entry {index} needs a username and a password", _FIX)
        token, subsonic = row.get("token"), row.get("subsonic_token")
        accounts.append(Account(str(row["username"]), SecretStr(str(row["password"])),
                                SecretStr(str(token)) if token else None,
                                SecretStr(str(subsonic)) if subsonic else None))
    if not accounts:
        raise UsageError(f"users file {file} lists no accounts", _FIX)
    return accounts


def _parse_yaml(text: str, file: Path) -> list[object]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"users file {file} is not valid YAML: {error}", _FIX) from None
    if isinstance(data, dict):
        data = data.get("users")
    if not isinstance(data, list):
        raise UsageError(f"users file {file} has no 'users' list", _FIX)
    return data


def _parse_csv(text: str) -> list[object]:
    return list(csv.DictReader(io.StringIO(text)))


class AccountPool:
    """Hands accounts to virtual users round-robin, offset per Locust worker.

    Several virtual users may share an account (each account gets one app token per
    process); offsetting by worker spreads workers over different accounts first.
    """

    def __init__(self, accounts: list[Account], worker_index: int = 0):
        start = (worker_index * 7) % len(accounts)
        self.accounts = list(accounts)
        self._cycle = itertools.cycle(accounts[start:] + accounts[:start])
        self.size = len(accounts)

    def next(self) -> Account:
        return next(self._cycle)

    def peek(self) -> list[Account]:
        return self.accounts
