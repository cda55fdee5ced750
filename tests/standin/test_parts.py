"""The stand-in's parts that decide behaviour on their own: import pacing, nginx's Range
rules, Django's password hashing and rules, listen tokens."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from fwload.standin.backends.audio import range_plan
from fwload.standin.backends.import_queue import ThreadImportQueue
from fwload.standin.security.passwords import PasswordHasher, password_problems, similarity_problems
from fwload.standin.security.tokens import ListenTokens


def test_import_queue_runs_in_order_and_never_faster_than_its_rate():
    rate = 20.0
    started: list[tuple[int, float]] = []
    done = threading.Event()

    def task(upload_id: int) -> None:
        started.append((upload_id, time.monotonic()))
        if upload_id == 2:
            raise RuntimeError("a crashed import leaves its upload alone")
        if len(started) == 5:
            done.set()

    queue = ThreadImportQueue(task, rate)
    queue.start()
    try:
        for upload_id in range(1, 6):
            queue.enqueue(upload_id)
        assert done.wait(10), f"only {len(started)} imports ran"
    finally:
        queue.stop()
    assert [upload_id for upload_id, _ in started] == [1, 2, 3, 4, 5]
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(started)]
    assert min(gaps) >= 1 / rate - 0.002


@pytest.mark.parametrize(
    ("header", "plan"),
    [
        (None, "whole"),
        ("items=0-5", "whole"),
        ("bytes=0-1023", "ranges"),
        ("bytes=1000-", "ranges"),
        ("bytes=-500", "ranges"),
        ("bytes=0-999999999", "ranges"),
        ("bytes=0-10, 20-30", "ranges"),
        ("bytes=999999999-", "unsatisfiable"),
        ("bytes=5000-", "unsatisfiable"),
        ("bytes=10-5", "unsatisfiable"),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=abc", "unsatisfiable"),
    ],
)
def test_range_plan_follows_nginx(header, plan):
    assert range_plan(header, 5000) == plan


def test_password_hashes_are_django_pbkdf2_and_check_only_the_right_password():
    hasher = PasswordHasher(1000)
    encoded = hasher.hash("s3cret-value")
    algorithm, rounds, salt, _digest = encoded.split("$")
    assert (algorithm, rounds, len(salt)) == ("pbkdf2_sha256", "1000", 22) and "s3cret" not in encoded
    assert hasher.check("s3cret-value", encoded)
    assert not hasher.check("s3cret-valuE", encoded)
    assert not hasher.check("anything", None)
    assert hasher.hash("s3cret-value") != encoded


def test_password_rules_give_djangos_messages():
    assert password_problems("a-long-enough-pass") == []
    assert password_problems("12345") == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is entirely numeric.",
    ]
    assert password_problems("password") == ["This password is too common."]
    assert similarity_problems("johnsmith1", username="johnsmith", email="x@example.org") == [
        "The password is too similar to the username."
    ]
    assert similarity_problems("unrelated-words-9", username="johnsmith", email="j@example.org") == []


def test_listen_tokens_carry_the_user_and_reject_tampering_and_other_keys():
    tokens = ListenTokens("key-one")
    token = tokens.issue(7, "secret-uuid", ["read:libraries"])
    grant = tokens.verify(token)
    assert grant is not None and (grant.user_id, grant.user_secret, grant.scopes) == (
        7,
        "secret-uuid",
        ("read:libraries",),
    )
    payload, _, signature = token.rpartition(".")
    # The signature's last base64 character carries padding bits; tamper with its first.
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert tokens.verify(tampered) is None
    assert ListenTokens("key-two").verify(token) is None
