"""Synthetic data and the two demo models, fitted here with numpy: nothing is downloaded.

* Risk score: eight borrower features -> probability of default (Sigmoid head), fitted by
  logistic loss on borrowers drawn from a known ground-truth model.
* Trading signal: the last eight returns of a price series -> a signal in [-1, 1] (Tanh
  head), fitted by squared loss to the sign-scaled next return of a series with momentum
  and mean reversion.

Both are 8 -> 16 -> 1 MLPs, the size the oracle's latency and gas targets are set for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Layer = tuple[FloatArray, FloatArray]

RISK_FEATURES = (
    "utilization",
    "debt_to_income",
    "late_payments",
    "account_age",
    "collateral_ratio",
    "income_volatility",
    "recent_inquiries",
    "savings_ratio",
)


@dataclass(frozen=True)
class Fitted:
    """A fitted model: its layers, its head, and its fit on held-out data."""

    name: str
    layers: list[Layer]
    head: str
    holdout_metric: str
    holdout_value: float
    samples: FloatArray


def risk_data(n: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Borrowers with features in [-1, 1] and a default label from a known logistic model."""
    x = rng.uniform(-1.0, 1.0, (n, len(RISK_FEATURES)))
    true_w = np.array([1.6, 1.2, 2.0, -0.8, -1.5, 0.7, 0.6, -1.0])
    logit = x @ true_w + 1.2 * x[:, 0] * x[:, 2] - 0.5
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    return x, y


def signal_data(n: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Windows of eight scaled returns of an AR(2) series and a target in (-1, 1)."""
    r = np.zeros(n + 10)
    noise = rng.normal(0.0, 0.01, n + 10)
    for t in range(2, n + 10):
        r[t] = 0.35 * r[t - 1] - 0.2 * r[t - 2] + noise[t]
    windows = np.stack([r[t - 8 : t][::-1] for t in range(8, n + 8)]) * 50.0
    expected_next = 0.35 * windows[:, 0] - 0.2 * windows[:, 1]
    return np.clip(windows, -4.0, 4.0), np.tanh(2.0 * expected_next)


def _forward(layers: list[Layer], x: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    acts = [x]
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
        acts.append(h)
    return acts, h[:, 0]


def fit_mlp(
    x: FloatArray, y: FloatArray, *, head: str, hidden: int = 16, steps: int = 600, seed: int = 0
) -> list[Layer]:
    """Full-batch Adam on an n_in -> hidden -> 1 MLP with a Sigmoid or Tanh head."""
    rng = np.random.default_rng(seed)
    n_in = x.shape[1]
    layers: list[Layer] = [
        (rng.normal(0, np.sqrt(2.0 / n_in), (hidden, n_in)), np.zeros(hidden)),
        (rng.normal(0, np.sqrt(1.0 / hidden), (1, hidden)), np.zeros(1)),
    ]
    params = [p for layer in layers for p in layer]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        acts, z = _forward(layers, x)
        if head == "Sigmoid":  # logistic loss: d/dz = sigmoid(z) - y
            dz = (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
        else:  # squared loss through tanh
            out = np.tanh(z)
            dz = 2.0 * (out - y) * (1.0 - out**2) / len(y)
        grads = _backward(layers, acts, dz)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            p -= 0.01 * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)
    return layers


def _backward(layers: list[Layer], acts: list[FloatArray], dz: FloatArray) -> list[FloatArray]:
    grads: list[FloatArray] = []
    delta = dz[:, None]
    for i in range(len(layers) - 1, -1, -1):
        w, _ = layers[i]
        grads = [delta.T @ acts[i], delta.sum(axis=0), *grads]
        if i:
            delta = (delta @ w) * (acts[i] > 0)
    return grads


def predict(layers: list[Layer], head: str, x: FloatArray) -> FloatArray:
    _, z = _forward(layers, x)
    out: FloatArray = 1.0 / (1.0 + np.exp(-z)) if head == "Sigmoid" else np.tanh(z)
    return out


def fit_demo_models(seed: int = 7) -> tuple[Fitted, Fitted]:
    """The risk-score and trading-signal models, each with held-out quality and samples."""
    rng = np.random.default_rng(seed)
    xr, yr = risk_data(3000, rng)
    risk = fit_mlp(xr[:2500], yr[:2500], head="Sigmoid", seed=seed)
    p = predict(risk, "Sigmoid", xr[2500:])
    accuracy = float(np.mean((p > 0.5) == (yr[2500:] > 0.5)))
    xs, ys = signal_data(3000, rng)
    signal = fit_mlp(xs[:2500], ys[:2500], head="Tanh", seed=seed + 1)
    corr = float(np.corrcoef(predict(signal, "Tanh", xs[2500:]), ys[2500:])[0, 1])
    return (
        Fitted("risk-score", risk, "Sigmoid", "accuracy", accuracy, xr[2500:2600]),
        Fitted("trading-signal", signal, "Tanh", "correlation", corr, xs[2500:2510]),
    )
