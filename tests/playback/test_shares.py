"""Ratio options as evenly spread shares: exactly the share of the chances, whatever the phase."""

from __future__ import annotations

import math

import pytest

from fwload.users.shares import Share, Shares


@pytest.mark.parametrize("ratio", [0.0, 0.05, 0.2, 0.3, 1 / 3, 0.5, 0.99, 1.0])
@pytest.mark.parametrize("phase", [0.0, 0.37, 0.999])
def test_a_share_says_yes_on_exactly_its_share_of_the_chances(ratio, phase):
    share = Share(ratio, phase)
    for chances in range(1, 200):
        taken = share.take()
        yes = math.floor(phase + ratio * chances + 1e-9)
        assert share.credit == pytest.approx(phase + ratio * chances - yes, abs=1e-9)
        if ratio == 0:
            assert not taken
        if ratio == 1:
            assert taken


def test_twelve_plays_at_a_fifth_always_give_three_favorites():
    for _ in range(1000):
        shares = Shares()
        assert sum(shares.take("favorite", 0.2) for _ in range(12)) == 3
        assert Shares().take("favorite", 0.2), "a run with one play favorites it"


@pytest.mark.parametrize("ratio", [0.01, 0.2, 0.5, 1.0])
def test_the_first_chance_is_taken_and_then_every_1_over_ratio_th(ratio):
    for _ in range(200):
        share = Share(ratio)
        taken = [share.take() for _ in range(400)]
        assert taken[0]
        assert abs(sum(taken) - (1 + 399 * ratio)) < 1 + 1e-9
    assert not Share(0.0).take()


def test_a_new_ratio_starts_a_new_share():
    shares = Shares()
    assert [shares.take("search", 1.0) for _ in range(3)] == [True] * 3
    assert [shares.take("search", 0.0) for _ in range(3)] == [False] * 3
