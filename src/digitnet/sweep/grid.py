"""The trials of a sweep: every training setting given one or more values, or a range to draw from.

A setting's values are a list (``--learning-rate 0.5 1.5 3``: the grid takes their product) or,
for ``--random N``, ranges too: ``0.01:3`` (uniform), ``0.01:3:log`` (log-uniform), ``10:100`` for a
whole-number setting (uniform integers). A TOML spec holds the same under ``[sweep]``. Draws come
from a seeded generator, so the same command gives the same trials, and a re-run can resume.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..run import DEFAULTS

# Every setting of a trial, in the order of `digitnet train`'s options, and its kind.
SETTINGS: dict[str, str] = {
    "hidden": "sizes", "activation": "choice", "cost": "choice", "epochs": "int", "batch_size": "int",
    "learning_rate": "float", "momentum": "float", "weight_decay": "float", "learning_rate_decay": "float",
    "seed": "int", "dtype": "choice", "engine": "choice", "limit": "int",
}
CHOICES = {"activation": ("sigmoid", "relu"), "cost": ("quadratic", "cross-entropy"),
           "dtype": ("float32", "float64"), "engine": ("auto", "compiled", "numpy", "numba")}
FIXED_DEFAULTS: dict[str, Any] = {**DEFAULTS, "engine": "auto", "limit": None}


@dataclass(frozen=True)
class Range:
    """A range to draw a number from: uniform in [low, high], or log-uniform if ``log``."""

    low: float
    high: float
    log: bool = False

    def draw(self, rng: np.random.Generator, whole: bool) -> float | int:
        if whole:
            if self.log:
                return int(round(math.exp(rng.uniform(math.log(self.low), math.log(self.high)))))
            return int(rng.integers(int(self.low), int(self.high) + 1))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))


def parse_value(name: str, text: Any) -> Any:
    """One value of setting ``name`` from the command line or a spec: a number, a choice, sizes or a Range."""
    kind = SETTINGS[name]
    option = "--" + name.replace("_", "-")
    if kind == "sizes":
        parts = [text] if isinstance(text, int) else (
            list(text) if isinstance(text, list) else str(text).replace(",", " ").split())
        try:
            sizes = tuple(int(p) for p in parts)
        except (TypeError, ValueError):
            raise ConfigError(f"{option}: expected sizes such as 16,16, got {text!r}") from None
        if not sizes or min(sizes) < 1:
            raise ConfigError(f"{option}: layer sizes must be >= 1, got {text!r}")
        return sizes
    if kind == "choice":
        if text not in CHOICES[name]:
            raise ConfigError(f"{option}: expected one of {', '.join(CHOICES[name])}, got {text!r}")
        return text
    if name == "limit" and str(text).lower() in ("none", "all"):
        return None
    if isinstance(text, str) and ":" in text:
        return _range(option, text)
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{option}: expected a number or a range such as 0.01:3:log, got {text!r}") from None
    if kind == "int":
        if number != int(number):
            raise ConfigError(f"{option}: expected a whole number, got {text!r}")
        return int(number)
    return number


def _range(option: str, text: str) -> Range:
    parts = text.split(":")
    log = len(parts) == 3 and parts[2] == "log"
    if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise ConfigError(f"{option}: a range is LOW:HIGH or LOW:HIGH:log, got {text!r}")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"{option}: a range is LOW:HIGH or LOW:HIGH:log with numbers, got {text!r}") from None
    if not low < high or (log and low <= 0):
        raise ConfigError(f"{option}: a range needs LOW < HIGH (and LOW > 0 for log), got {text!r}")
    return Range(low, high, log)


MAX_SPEC_BYTES = 1 << 20  # a spec lists settings: a few hundred bytes


def read_spec(path: str | Path) -> dict[str, Any]:
    """The ``[sweep]`` table of a TOML file: settings (a value or a list of values), random, data."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, as a package
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    from ..files import open_regular

    with open_regular(path, "sweep spec", ConfigError, "give a TOML file with a [sweep] table") as f:
        raw = f.read(MAX_SPEC_BYTES + 1)
    if len(raw) > MAX_SPEC_BYTES:
        raise ConfigError(f"--spec {path}: larger than {MAX_SPEC_BYTES:,} bytes; a sweep spec is a short TOML file")
    try:
        spec = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"--spec {path}: not UTF-8 text; give a TOML file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"--spec {path}: not valid TOML ({e})") from None
    table = spec.get("sweep", spec)
    known = {*SETTINGS, "random", "random_seed", "data"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"--spec {path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return dict(table)


def values_of(given: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each setting's list of parsed values; a setting not given has its `digitnet train` default."""
    values: dict[str, list[Any]] = {}
    for name in SETTINGS:
        raw = given.get(name)
        if raw is None:
            values[name] = [FIXED_DEFAULTS[name]]
            continue
        many = raw if isinstance(raw, list) and not (SETTINGS[name] == "sizes" and _flat_ints(raw)) else [raw]
        values[name] = [parse_value(name, v) for v in many]
        if not values[name]:
            raise ConfigError(f"--{name.replace('_', '-')}: give at least one value")
    return values


def _flat_ints(raw: list[Any]) -> bool:
    return all(isinstance(v, int) for v in raw)


def trials(values: Mapping[str, Sequence[Any]], random: int | None = None,
           random_seed: int = 0) -> list[dict[str, Any]]:
    """The trials' settings: the product of every setting's values, or ``random`` draws crossed with the seeds.

    With ``random``, each draw picks every setting (but the seed) at random: a value from its list
    or from its range; each draw is then trained with every seed given, so the spread over seeds is
    measured for every draw.
    """
    ranges = [n for n, vs in values.items() if any(isinstance(v, Range) for v in vs)]
    if random is None:
        if ranges:
            raise ConfigError(f"--{ranges[0].replace('_', '-')}: a range (LOW:HIGH) needs --random N")
        names = list(values)
        return _unique([dict(zip(names, combo)) for combo in itertools.product(*values.values())])
    if random < 1:
        raise ConfigError(f"--random must be >= 1, got {random}")
    if any(isinstance(v, Range) for v in values["seed"]):
        raise ConfigError("--seed: give seeds as a list, not a range; each draw is trained with every seed")
    rng = np.random.default_rng(random_seed)
    draws: list[dict[str, Any]] = []
    for _ in range(random):
        draw = {}
        for name, vs in values.items():
            if name == "seed":
                continue
            v = vs[int(rng.integers(len(vs)))]
            draw[name] = v.draw(rng, SETTINGS[name] == "int") if isinstance(v, Range) else v
        draws.extend({**draw, "seed": seed} for seed in values["seed"])
    return _unique([{name: d[name] for name in SETTINGS} for d in draws])


def _unique(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for s in settings:
        seen.setdefault(trial_id(s), s)
    return list(seen.values())


def canonical(settings: Mapping[str, Any]) -> str:
    """The settings as sorted JSON (sizes as a list): the same settings, the same text."""
    plain = {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()}
    return json.dumps(plain, sort_keys=True, allow_nan=False)


def trial_id(settings: Mapping[str, Any]) -> str:
    """A trial's key in the database: a hash of its settings, so a re-run finds what is done."""
    return hashlib.sha256(canonical(settings).encode()).hexdigest()[:16]
