"""Random quantities in scenario files.

A value is either a plain number (a constant) or a table with a ``dist`` key. Each distribution
draws from the ``numpy.random.Generator`` it is given: the run owns the generators (one stream per
node), so the same seed always gives the same draws.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator) -> float:
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def variance(self) -> float:
        raise NotImplementedError


class Constant(_Dist):
    dist: Literal["constant"] = "constant"
    value: float

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value


    @property
    def variance(self) -> float:
        return 0.0

class Uniform(_Dist):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high must be >= low, got low={self.low}, high={self.high}")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

class Exponential(_Dist):
    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_))

    @property
    def mean(self) -> float:
        return self.mean_


    @property
    def variance(self) -> float:
        return self.mean_**2

class Normal(_Dist):
    """Normal, truncated at zero when ``positive`` (durations cannot be negative)."""

    dist: Literal["normal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(ge=0)
    positive: bool = True

    def sample(self, rng: np.random.Generator) -> float:
        x = float(rng.normal(self.mean_, self.sd))
        return max(x, 0.0) if self.positive else x

    @property
    def mean(self) -> float:
        return self.mean_


    @property
    def variance(self) -> float:
        return self.sd**2  # truncation at 0 ignored

class Lognormal(_Dist):
    """exp(N(mu, sigma)): ``mu`` and ``sigma`` are those of the underlying normal."""

    dist: Literal["lognormal"]
    mu: float
    sigma: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(self.mu, self.sigma))

    @property
    def mean(self) -> float:
        return float(np.exp(self.mu + self.sigma**2 / 2))


    @property
    def variance(self) -> float:
        return float((np.exp(self.sigma**2) - 1) * np.exp(2 * self.mu + self.sigma**2))

class Empirical(_Dist):
    """One of ``values``, uniformly or with ``weights`` (normalised)."""

    dist: Literal["empirical"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        w = self.weights
        if w is not None and (len(w) != len(self.values) or min(w) < 0 or sum(w) <= 0):
            raise ValueError("weights must be as many as values, >= 0, and not all 0")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w: np.ndarray = np.asarray(self.weights, dtype=float)
        p: np.ndarray = w / w.sum()
        return p

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.choice(np.asarray(self.values, dtype=float), p=self._p()))

    @property
    def mean(self) -> float:
        p = self._p()
        return float(np.average(self.values, weights=p))


    @property
    def variance(self) -> float:
        return float(np.average((np.asarray(self.values) - self.mean) ** 2, weights=self._p()))

def _number_is_constant(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {"dist": "constant", "value": value}
    return value


Distribution = Annotated[
    Constant | Uniform | Exponential | Normal | Lognormal | Empirical,
    BeforeValidator(_number_is_constant),
    Field(discriminator="dist"),
]
"""A field type: a number or a ``{ dist = ... }`` table."""
