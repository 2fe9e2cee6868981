"""Config validation: defaults filled in, every bad input named by its key before any work."""

from __future__ import annotations

import copy

import pytest
import yaml

from rnndyn.config import ConfigError, load_schema, validate_config
from tests.conftest import REPO, SCHEMA


@pytest.fixture(scope="module")
def schema():
    return load_schema(SCHEMA)


def test_empty_config_gets_every_default(schema):
    config = validate_config({}, schema)
    assert config["bistable"]["w"] == {"start": 0.5, "stop": 3.0, "num": 26}
    assert config["bistable"]["analysis"]["hyperbolic_margin"] == 0.05
    assert config["device"] == "auto"


@pytest.mark.parametrize("path", sorted((REPO / "config").glob("*.yaml")) + [REPO / "tests/config/tiny.yaml"],
                         ids=lambda p: p.name)
def test_shipped_configs_are_valid(schema, path):
    validate_config(yaml.safe_load(path.read_text()), schema)


BAD_CONFIGS = [
    ({"bistable": {"n_steps": -3}}, "'bistable.n_steps': -3 is less than the minimum of 1"),
    ({"bistable": {"n_steps": "many"}}, "'bistable.n_steps': 'many' is not of type 'integer'"),
    ({"bistable": {"w": {"start": 0.5, "stop": 3.0, "num": 0}}}, "'bistable.w.num': 0 is less than the minimum"),
    ({"bistable": {"w": {"start": 3.0, "stop": 0.5, "num": 5}}}, "'bistable.w': start (3.0) must be less than stop"),
    ({"bistable": {"w": {"start": 0.5, "num": 5}}}, "'bistable.w': 'stop' is a required property"),
    ({"bistbale": {}}, "unknown key 'bistbale'"),
    ({"bistable": {"analysis": {"n_gird": 10}}}, "unknown key 'bistable.analysis.n_gird'"),
    ({"device": "tpu"}, "'device': unknown option 'tpu'"),
    ({"stages": ["bistable", "astrology"]}, "'stages.1': unknown option 'astrology'"),
    ({"stages": []}, "'stages': [] should be non-empty"),
    ({"seed": -1}, "'seed': -1 is less than the minimum of 0"),
    ({"bistable": {"analysis": {"end_state_tol": 0}}}, "'bistable.analysis.end_state_tol': 0 is less than or equal"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS, ids=[m for _, m in BAD_CONFIGS])
def test_bad_config_is_rejected_naming_the_key(schema, config, message):
    with pytest.raises(ConfigError) as info:
        validate_config(copy.deepcopy(config), schema)
    assert message in str(info.value)


def test_every_problem_is_reported_at_once(schema):
    with pytest.raises(ConfigError) as info:
        validate_config({"seed": "x", "device": "tpu", "bogus": 1}, schema)
    text = str(info.value)
    assert "'seed'" in text and "'device'" in text and "unknown key 'bogus'" in text


NAN, INF = float("nan"), float("inf")
NOT_FINITE = [
    ({"seed": INF}, "'seed': inf is not a finite number"),
    ({"bistable": {"w": {"start": NAN, "stop": 3.0, "num": 5}}}, "'bistable.w.start': nan is not a finite number"),
    ({"linear": {"rho": [0.5, -INF]}}, "'linear.rho.1': -inf is not a finite number"),
    ({"linear": {"coupling": INF}}, "'linear.coupling': inf is not a finite number"),
    ({"kalman": {"systems": {"s": {"kind": "canonical", "n": 2, "rho": NAN}}}},
     "'kalman.systems.s.rho': nan is not a finite number"),
    ({"lorenz": {"training": {"archs": {"gru": {"phases": [{"mode": "teacher", "epochs": 1, "lr": NAN}]}}}}},
     "'lorenz.training.archs.gru.phases.0.lr': nan is not a finite number"),
    ({"lorenz": {"training": {"archs": {"gru": {"phases": [{"mode": "teacher", "epochs": 1, "grad_clip": -INF}]}}}}},
     "'lorenz.training.archs.gru.phases.0.grad_clip': -inf is not a finite number"),  # type [number, "null"]
]


@pytest.mark.parametrize(("config", "message"), NOT_FINITE, ids=[m for _, m in NOT_FINITE])
def test_nan_and_infinity_are_rejected_naming_the_key(schema, config, message):
    with pytest.raises(ConfigError) as info:
        validate_config(copy.deepcopy(config), schema)
    text = str(info.value)
    assert message in text
    key = message.split("'")[1]
    assert text.count(f"'{key}'") == 1  # reported once: not again as below a minimum or above a maximum


def test_yaml_nan_and_inf_are_rejected_all_at_once(schema):
    config = yaml.safe_load("seed: .inf\nlinear: {rho: [.nan, 0.9], coupling: -.inf}\n")
    with pytest.raises(ConfigError) as info:
        validate_config(config, schema)
    text = str(info.value)
    for message in ("'seed': inf", "'linear.rho.0': nan", "'linear.coupling': -inf"):
        assert f"{message} is not a finite number" in text


def test_large_finite_numbers_still_pass(schema):
    config = validate_config({"linear": {"rho": [1e-300, 1.5], "coupling": 1e300},
                              "bistable": {"w": {"start": -1e300, "stop": 1e300, "num": 2}}}, schema)
    assert config["linear"]["coupling"] == 1e300
