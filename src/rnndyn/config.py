"""Config validation against the workflow's JSON schema, with defaults filled in.

Every problem is reported at once, each naming the offending key as a dotted path
(``bistable.w.num``), before any job runs. Numbers must be finite: YAML's ``.nan`` and ``.inf``
are refused wherever the schema asks for a number.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml


class ConfigError(ValueError):
    """The config does not satisfy the schema; the message lists every problem with its key."""


def load_schema(path: str | Path) -> dict[str, Any]:
    """Load the top-level schema and inline each stage's schema file.

    A property written as ``{$ref: <file>.schema.yaml}`` is replaced by that file's contents
    (relative to ``path``), so each stage keeps its schema in a file of its own while internal
    ``#/$defs/...`` references still resolve against the one combined document.
    """
    path = Path(path)
    schema = yaml.safe_load(path.read_text())
    for key, prop in schema.get("properties", {}).items():
        ref = prop.get("$ref", "") if isinstance(prop, dict) else ""
        if ref.endswith(".yaml"):
            schema["properties"][key] = yaml.safe_load((path.parent / ref).read_text())
    return schema


def _with_defaults(validator_class: type) -> type:
    """A validator class that fills in ``default`` values of missing properties while validating."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def fill_defaults(validator, properties, instance, schema):  # noqa: ANN001, ANN202
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": fill_defaults})


_NOT_FINITE = "is not a finite number"


def _finite_numbers(validator_class: type) -> type:
    """A validator class whose ``type: number`` (and ``integer``) also refuses NaN and +-inf.

    JSON has no NaN or infinity, so JSON Schema says nothing about them, but YAML's ``.nan`` and
    ``.inf`` load as Python floats that pass ``type: number`` and every ``minimum``/``maximum``.
    """
    validate_type = validator_class.VALIDATORS["type"]

    def finite_type(validator, types, instance, schema):  # noqa: ANN001, ANN202
        numeric = {"number", "integer"} & set([types] if isinstance(types, str) else types)
        if numeric and isinstance(instance, float) and not math.isfinite(instance):
            yield jsonschema.ValidationError(f"{instance!r} {_NOT_FINITE}")
        else:
            yield from validate_type(validator, types, instance, schema)

    return jsonschema.validators.extend(validator_class, {"type": finite_type})


_Validator = _finite_numbers(_with_defaults(jsonschema.Draft202012Validator))


def _key(path: Iterator[Any]) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        prefix = "" if key == "<top level>" else key + "."
        return "; ".join(f"unknown key '{prefix}{u}' (allowed here: {', '.join(allowed)})" for u in unknown)
    if error.validator == "enum":
        return f"'{key}': unknown option {error.instance!r}; choose one of {error.validator_value}"
    return f"'{key}': {error.message}"


def _grid_problems(config: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Semantic checks JSON Schema cannot express: a grid ``{start, stop, num}`` must increase."""
    if isinstance(config, dict):
        if {"start", "stop", "num"} <= config.keys() and config["num"] > 1 and not config["start"] < config["stop"]:
            yield (f"'{_key(path)}': start ({config['start']}) must be less than stop ({config['stop']}) "
                   "for a grid of more than one point")
        for k, v in config.items():
            yield from _grid_problems(v, (*path, k))


def validate_config(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` in place, filling defaults; return it.

    Raises
    ------
    ConfigError
        Listing every problem found, each naming its key.
    """
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    # A NaN or infinity is reported once, as such, not again by the bounds it slips past or hits.
    not_finite = {tuple(e.absolute_path) for e in errors if e.validator == "type" and _NOT_FINITE in e.message}
    errors = [e for e in errors if e.validator == "type" or tuple(e.absolute_path) not in not_finite]
    problems = [_describe(e) for e in errors] + ([] if errors else list(_grid_problems(config)))
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))
    return config
