"""Password hashing and the registration password rules, as Django 3.2 does them.

Hashes use Django's ``pbkdf2_sha256$<rounds>$<salt>$<b64>`` format and cost, because HTTP
Basic runs one full check per request on the real server (150-200 ms there,
funkwhale-api.md §12) and a load test should feel that cost here too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string
from difflib import SequenceMatcher
from functools import cache
from importlib import resources

ALGORITHM = "pbkdf2_sha256"
MIN_LENGTH = 8
_SALT_ALPHABET = string.ascii_letters + string.digits


class PasswordHasher:
    """Hashes and checks passwords with a fixed number of PBKDF2 rounds."""

    def __init__(self, iterations: int) -> None:
        self.iterations = iterations

    def hash(self, password: str) -> str:
        salt = "".join(secrets.choice(_SALT_ALPHABET) for _ in range(22))
        return f"{ALGORITHM}${self.iterations}${salt}${_derive(password, salt, self.iterations)}"

    def check(self, password: str, encoded: str | None) -> bool:
        """True when `password` matches; `encoded=None` (no such user) costs one hash all the same."""
        if encoded is None:
            _derive(password, "no-such-user", self.iterations)
            return False
        try:
            algorithm, iterations, salt, expected = encoded.split("$", 3)
            rounds = int(iterations)
        except ValueError:
            return False
        if algorithm != ALGORITHM:
            return False
        return hmac.compare_digest(_derive(password, salt, rounds), expected)


def _derive(password: str, salt: str, iterations: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations, dklen=32)
    return base64.b64encode(digest).decode("ascii")


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("fwload.standin.security").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(password: str) -> list[str]:
    """Django's MinimumLength, CommonPassword and NumericPassword messages, in that order."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"This password is too short. It must contain at least {MIN_LENGTH} characters.")
    if password.lower().strip() in _common_passwords():
        problems.append("This password is too common.")
    if password.isdigit():
        problems.append("This password is entirely numeric.")
    return problems


def similarity_problems(password: str, *, username: str, email: str) -> list[str]:
    """Django's UserAttributeSimilarityValidator (max similarity 0.7) on username and e-mail."""
    problems = []
    lowered = password.lower()
    for value, label in ((username, "username"), (email, "email address")):
        if not value:
            continue
        parts = [*re.split(r"\W+", value), value]
        if any(SequenceMatcher(a=lowered, b=part.lower()).quick_ratio() >= 0.7 for part in parts if part):
            problems.append(f"The password is too similar to the {label}.")
    return problems
