"""The named recipes: the official repository's and ours, and their learning-rate schedules."""

from __future__ import annotations

import math

import pytest

from kaokore.errors import UsageError
from kaokore.learn.presets import PRESETS, lr_at, with_preset


def test_official_preset_is_the_official_script() -> None:
    official = PRESETS["official"]
    assert (official["lr"], official["batch_size"], official["epochs"]) == (1e-3, 32, 20)
    assert (official["schedule"], official["step_every"], official["image_size"]) == (
        "step",
        10,
        256,
    )
    rates = [lr_at(lr=1e-3, schedule="step", epoch=e, horizon=20, step_every=10) for e in (1, 10)]
    assert rates == [1e-3, 1e-3]
    assert lr_at(lr=1e-3, schedule="step", epoch=11, horizon=20) == pytest.approx(1e-4)
    assert lr_at(lr=1e-3, schedule="step", epoch=20, horizon=20) == pytest.approx(1e-4)
    # A time limit that affords 8 of the 20 epochs steps down after 4 (the same fraction).
    short = [lr_at(lr=1.0, schedule="step", epoch=e, horizon=8, planned=20) for e in (4, 5)]
    assert short == [1.0, pytest.approx(0.1)]


def test_cosine_warms_up_then_decays_to_the_horizon() -> None:
    rates = [
        lr_at(lr=1.0, schedule="cosine", epoch=e, horizon=10, warmup_epochs=2) for e in range(1, 11)
    ]
    assert rates[0] < rates[1] < rates[2] == 1.0
    assert all(a > b for a, b in zip(rates[2:], rates[3:], strict=False))
    assert rates[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 7 / 8)))
    # A shorter horizon (a time limit) ends the decay sooner.
    assert lr_at(lr=1.0, schedule="cosine", epoch=6, horizon=6, warmup_epochs=2) < rates[5]
    assert lr_at(lr=0.3, schedule="constant", epoch=99, horizon=1) == 0.3


def test_explicit_options_win_over_the_preset() -> None:
    chosen = with_preset("official", {"lr": 5e-4, "epochs": None})
    assert chosen["lr"] == 5e-4 and chosen["epochs"] == 20 and chosen["preset"] == "official"
    assert with_preset(None, {"lr": None, "epochs": 3}) == {"epochs": 3}
    with pytest.raises(UsageError, match="^preset .*: use one of official, scratch"):
        with_preset("paper", {})
    with pytest.raises(UsageError, match="Unknown schedule"):
        lr_at(lr=1.0, schedule="linear", epoch=1, horizon=1)
