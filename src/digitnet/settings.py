"""The settings of a training run, in one frozen, validated dataclass.

Every way of training (``Network.fit``, ``digitnet train``, the web page's trainer and its request
schema, the scikit-learn wrapper) builds a ``TrainingSettings``, and a checkpoint stores it as a
plain dict (``to_dict`` / ``from_dict``). A new setting is a new field here (and its use in
optimizer.py or training.py); everything else passes the object along.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from . import checks
from .errors import ConfigError

ENGINES = ("auto", "compiled", "numpy", "numba")  # "numba": the compiled engine's former name
OPTIONAL = ("engine",)  # settings that checkpoints written before them do not hold


@dataclass(frozen=True)
class TrainingSettings:
    """Stochastic gradient descent's settings, checked when made (a ConfigError names the bad one).

    epochs: passes over the training data. batch_size: examples per mini-batch (one step each).
    learning_rate: eta in W -= eta dW. momentum: mu in v = mu v - eta dW; W += v (0 = plain SGD).
    weight_decay: lambda of the L2 penalty lambda/2 |W|^2. learning_rate_decay: eta is multiplied
    by this after every epoch. engine: "auto", "compiled" (or its former name "numba") or "numpy" (the reference).
    """

    epochs: int = 30
    batch_size: int = 10
    learning_rate: float = 1.5
    momentum: float = 0.0
    weight_decay: float = 0.0
    learning_rate_decay: float = 1.0
    engine: str = "auto"

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: the checked values replace the given ones once, here
        set_(self, "epochs", checks.whole_number(self.epochs, "epochs", 0))
        set_(self, "batch_size", checks.whole_number(self.batch_size, "batch size", 1, "; the lesson uses 10"))
        set_(self, "learning_rate", checks.learning_rate(self.learning_rate))
        mu = checks.number(self.momentum, "momentum")
        if not 0.0 <= mu < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}; try 0.9, or 0 for plain SGD")
        lam = checks.number(self.weight_decay, "weight decay")
        if lam < 0:
            raise ConfigError(f"weight decay must be >= 0, got {self.weight_decay!r}")
        decay = checks.number(self.learning_rate_decay, "learning rate decay")
        if not 0.0 < decay <= 1.0:
            raise ConfigError(f"learning rate decay must be in (0, 1], got {self.learning_rate_decay!r}")
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        set_(self, "momentum", mu)
        set_(self, "weight_decay", lam)
        set_(self, "learning_rate_decay", decay)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (JSON-ready), as checkpoints and recordings store them."""
        return asdict(self)

    as_dict = to_dict

    @classmethod
    def from_dict(cls, d: dict[str, Any], partial: bool = False) -> TrainingSettings:
        """Settings from a dict such as a checkpoint's; keys that are not settings are ignored. A
        missing setting is a KeyError (a damaged checkpoint says so), or with ``partial`` its default."""
        needed = [f.name for f in fields(cls) if f.name in d or not (partial or f.name in OPTIONAL)]
        return cls(**{name: d[name] for name in needed})

    def replace(self, **changes: Any) -> TrainingSettings:
        """A copy with ``changes``, checked again."""
        return replace(self, **changes)

    def describe(self) -> str:
        """One line for people: 'N epochs of mini-batches of B, learning rate eta[, momentum ...]'."""
        epochs = f"{self.epochs} epoch" + ("" if self.epochs == 1 else "s")
        return (f"{epochs} of mini-batches of {self.batch_size}, learning rate {self.learning_rate:g}"
                + (f", momentum {self.momentum:g}" if self.momentum else "")
                + (f", weight decay {self.weight_decay:g}" if self.weight_decay else "")
                + (f", learning rate x{self.learning_rate_decay:g} per epoch" if self.learning_rate_decay != 1 else ""))
