"""Tests of rnndyn.training.config: TrainConfig validation and round trips."""

import pytest

from rnndyn.training import TrainConfig
from rnndyn.training.config import MODES


def test_config_from_dict():
    config = TrainConfig.from_dict({"epochs": 3, "lr": "1e-3", "grad_clip": 1})
    assert config.lr == 0.001 and config.grad_clip == 1.0 and isinstance(config.grad_clip, float)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown TrainConfig keys"):
        TrainConfig.from_dict({"epochs": 3, "learning_rate": 1e-3})
    with pytest.raises(ValueError, match="needs loss 'mse'"):
        TrainConfig(epochs=3, mode="sparse_tf", loss="cross_entropy")
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(epochs=3, schedule="linear")


def test_coerce_passes_configs_through_and_builds_from_mappings():
    config = TrainConfig(epochs=2, lr=0.5)
    assert TrainConfig.coerce(config) is config
    assert TrainConfig.coerce({"epochs": 2, "lr": "0.5"}) == config


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValueError) as caught:
        TrainConfig(epochs=0, lr=0.0, grad_clip=0.0, tf_interval=0, checkpoint_every=0,
                    checkpoint_every_s=-1.0, optimizer="sgd")
    message = str(caught.value)
    for problem in ("epochs", "lr must be > 0", "grad_clip", "tf_interval", "checkpoint_every ",
                    "checkpoint_every_s", "optimizer"):
        assert problem in message, problem
    assert MODES == ("teacher", "sparse_tf", "rollout", "gtf")
    assert TrainConfig(epochs=1).checkpoint_every_s == 300.0  # five minutes by default


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"tf_interval": 0}, "tf_interval"),
        ({"tf_interval": -3}, "tf_interval"),
        ({"tf_interval": 2.5}, "tf_interval"),
        ({"mode": "gtf", "gtf_alpha": 1.5}, "gtf_alpha"),
        ({"mode": "gtf", "gtf_alpha": -0.1}, "gtf_alpha"),
        ({"mode": "gtf", "gtf_alpha": float("nan")}, "gtf_alpha"),
        ({"mode": "gtf", "gtf_alpha": "adaptiv"}, "gtf_alpha"),
        ({"gtf_alpha_start": 2.0}, "gtf_alpha_start"),
        ({"gtf_alpha_decay": -1.0}, "gtf_alpha_decay"),
        ({"gtf_alpha_every": 0}, "gtf_alpha_every"),
        ({"mode": "generalized"}, "mode"),
    ],
)
def test_bad_forcing_settings_are_refused_naming_the_key(values, key):
    with pytest.raises(ValueError, match=f"{key} must") as caught:
        TrainConfig.from_dict({"epochs": 1, **values})
    assert repr(values[key]) in str(caught.value)  # the offending value


def test_gtf_settings_from_a_mapping():
    adaptive = TrainConfig.from_dict({"epochs": 1, "mode": "gtf", "gtf_alpha": "adaptive"})
    assert adaptive.adaptive_alpha and TrainConfig.from_dict(adaptive.to_dict()) == adaptive
    fixed = TrainConfig.from_dict({"epochs": 1, "mode": "gtf", "gtf_alpha": "2e-1"})
    assert fixed.gtf_alpha == 0.2 and not fixed.adaptive_alpha  # YAML 1.1 reads 2e-1 as a string
    assert TrainConfig.from_dict({"epochs": 1, "mode": "gtf", "gtf_alpha": 1}).gtf_alpha == 1.0
    assert not TrainConfig(epochs=1).adaptive_alpha  # alpha matters in mode "gtf" only
    with pytest.raises(ValueError, match="needs loss 'mse'"):
        TrainConfig(epochs=1, mode="gtf", loss="cross_entropy")
