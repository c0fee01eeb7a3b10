"""The cost surface (lesson 2): a 2-D slice of the cost over 13,002 dimensions, and the path down it.

The cost is a function of every weight and bias, theta (13,002 numbers for the lesson's network).
A picture can only show two directions d1, d2 at a time: the slice

    C(alpha, beta) = cost of the network with parameters theta + alpha d1 + beta d2

around the current parameters theta (alpha = beta = 0 is the network as it is). Two choices of
directions (Li et al., "Visualizing the Loss Landscape of Neural Nets", 2018):

- "gradient": d1 = -grad C (downhill, as gradient descent steps), d2 a random direction,
  filter-normalised: each neuron's row of weights in d2 has the length of that neuron's row in W
  (biases 0), so the picture's scale follows the network's, not the random draw. d1 is given the
  same length as d2 and d2 is made orthogonal to d1, so both axes are measured alike.
- "path": the first two principal directions of the training path so far (the snapshots minus
  the current point), the plane in which training moved the most; unit length, so the axes are
  distances in parameter space.

The path of training is projected onto the plane: (alpha, beta) = the least-squares coordinates
of each snapshot minus theta. Computed in float64. The first layer is linear in its weights, so
z_1 = X (W + alpha D1 + beta D2)^T + ... is three products with X computed once; only the small
layers after it are recomputed for each point of the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import checks
from .errors import ConfigError, ShapeError
from .network import Network

DIRECTIONS = ("gradient", "path")


@dataclass
class Surface:
    """A slice of the cost: cost[i, j] at theta + alpha[j] d1 + beta[i] d2."""

    directions: str
    alpha: np.ndarray  # (n,) along d1; alpha[n // 2] == 0
    beta: np.ndarray  # (n,) along d2; beta[n // 2] == 0
    cost: np.ndarray  # (n, n)
    path: np.ndarray  # (t, 2): the training path's (alpha, beta), oldest first
    explained: float  # the share of the path's spread the plane holds (its squared distances from theta)
    origin_cost: float  # cost[n // 2, n // 2]: the network's own cost on the sample


def flatten(W: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """The parameters as one float64 vector theta: W[0], b[0], W[1], b[1], ... each row after row."""
    return np.concatenate([p.ravel() for pair in zip(W, b) for p in pair]).astype(np.float64)


def unflatten(net: Network, theta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The vector theta back as (W, b) lists shaped like the network's (float64 views)."""
    W, b, i = [], [], 0
    for Wl, bl in zip(net.W, net.b):
        W.append(theta[i:i + Wl.size].reshape(Wl.shape))
        i += Wl.size
        b.append(theta[i:i + bl.size])
        i += bl.size
    return W, b


def gradient_directions(net: Network, X: np.ndarray, Y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """d1 = -grad C and d2 a filter-normalised random direction, of equal length, orthogonal (float64)."""
    rng = np.random.default_rng(seed)
    d2W = []
    for W in net.W:
        r = rng.standard_normal(W.shape)  # (k, n)
        rows = np.linalg.norm(r, axis=1, keepdims=True)
        d2W.append(r / np.where(rows > 0, rows, 1) * np.linalg.norm(W.astype(np.float64), axis=1, keepdims=True))
    d2 = flatten(d2W, [np.zeros(len(b)) for b in net.b])
    dW, db = net.gradients(X, Y)
    d1 = -flatten(dW, db)
    length = np.linalg.norm(d2)
    if length == 0 or np.linalg.norm(d1) == 0:
        raise ConfigError("the gradient or the network's weights are all zero here, so the slice has no scale")
    d1 *= length / np.linalg.norm(d1)
    d2 -= (d2 @ d1) / (d1 @ d1) * d1
    d2 *= length / np.linalg.norm(d2)
    return d1, d2


def path_directions(theta: np.ndarray, path: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The two principal directions (unit length) of path - theta (t, P), and the share they explain."""
    M = path - theta  # (t, P)
    if len(M) < 3 or not np.any(M):
        raise ConfigError(f"the path of training has {len(M)} point(s) away from here; the 'path' directions "
                          "need at least 3 snapshots: train a little longer, or use the 'gradient' directions")
    _, s, Vt = np.linalg.svd(M, full_matrices=False)  # rows of Vt: the principal directions
    # Fix the sign so the start of training lies at negative alpha and beta (a picture that does not flip).
    signs = np.where(M[0] @ Vt[:2].T > 0, -1.0, 1.0)
    return Vt[0] * signs[0], Vt[1] * signs[1], float((s[:2] ** 2).sum() / (s ** 2).sum())


def cost_surface(net: Network, X: np.ndarray, y: np.ndarray, directions: str = "gradient",
                 path: Sequence[np.ndarray] | np.ndarray = (), span: float | None = None, resolution: int = 21,
                 seed: int = 0) -> Surface:
    """The cost of ``net`` on X (m, 784), y around its current parameters, on a resolution x resolution grid.

    path: flattened parameters (see ``flatten``) of earlier points of training, oldest first.
    span: the grid covers [-span, span] in alpha and beta; by default 1 for "gradient" (a whole
    weight's length, as in Li et al.) and 1.25 times the path's extent for "path".
    """
    if directions not in DIRECTIONS:
        raise ConfigError(f"unknown directions {directions!r}: use 'gradient' or 'path'")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 3 <= resolution <= 101:
        raise ConfigError(f"resolution must be a whole number 3..101, got {resolution!r}")
    resolution = int(resolution) | 1  # odd, so the grid goes through the current point itself
    X, Y, _ = checks.examples(net, X, y)
    theta = flatten(net.W, net.b)
    P = np.asarray(path, dtype=np.float64).reshape(-1, len(theta)) if len(path) else np.zeros((0, len(theta)))
    if P.shape[1] != len(theta):
        raise ShapeError(f"path points have {P.shape[1]} parameters, the network {len(theta)}")
    if directions == "gradient":
        d1, d2 = gradient_directions(net, X, Y, seed)
        explained = float("nan")
    else:
        d1, d2, explained = path_directions(theta, P)
    D = np.stack([d1, d2])  # (2, P)
    coords = np.linalg.lstsq(D.T, (P - theta).T, rcond=None)[0].T if len(P) else np.zeros((0, 2))  # (t, 2)
    if directions == "gradient" and len(P):
        spread = ((P - theta) ** 2).sum()
        explained = float(((coords @ D) ** 2).sum() / spread) if spread > 0 else 0.0
    if span is None:
        span = 1.0 if directions == "gradient" else 1.25 * float(np.abs(coords).max())
    if not np.isfinite(span) or span <= 0:
        raise ConfigError(f"span must be a finite number > 0, got {span!r}")
    grid = np.linspace(-span, span, resolution)
    cost = _grid_costs(net, X.astype(np.float64), Y.astype(np.float64), theta, d1, d2, grid)
    mid = resolution // 2
    return Surface(directions, grid, grid.copy(), cost, coords, explained, float(cost[mid, mid]))


def _grid_costs(net: Network, X: np.ndarray, Y: np.ndarray, theta: np.ndarray, d1: np.ndarray, d2: np.ndarray,
                grid: np.ndarray) -> np.ndarray:
    """cost[i, j] of theta + grid[j] d1 + grid[i] d2 on (X, Y), a few grid rows at a time."""
    (W, b), (W1, b1), (W2, b2) = unflatten(net, theta), unflatten(net, d1), unflatten(net, d2)
    first = [X @ W[0].T + b[0], X @ W1[0].T + b1[0], X @ W2[0].T + b2[0]]  # 3 x (m, k1): z_1 is linear in W[0]
    sigma, output, cost_fn = net.sigma, net.cost_function.output, net.cost_function.fn
    alpha, beta = np.meshgrid(grid, grid)  # (n, n): alpha varies along a row
    alpha, beta = alpha.ravel(), beta.ravel()  # (G,)
    per_chunk = max(1, 2_000_000 // (len(X) * max(net.sizes[1:])))  # grid points at once: about 16 MB of activations
    out = np.empty(len(alpha))
    last = len(net.W) - 1
    for s in range(0, len(alpha), per_chunk):
        a_, b_ = alpha[s:s + per_chunk, None, None], beta[s:s + per_chunk, None, None]  # (g, 1, 1)
        z = first[0] + a_ * first[1] + b_ * first[2]  # (g, m, k1)
        a = output(z) if last == 0 else sigma(z)
        for l in range(1, len(net.W)):
            Wl = W[l] + a_ * W1[l] + b_ * W2[l]  # (g, k, n)
            bl = b[l] + a_[:, 0] * b1[l] + b_[:, 0] * b2[l]  # (g, k)
            z = np.einsum("gmn,gkn->gmk", a, Wl) + bl[:, None, :]  # (g, m, k)
            a = output(z) if l == last else sigma(z)
        out[s:s + per_chunk] = cost_fn(a, Y[None]).mean(axis=1)  # (g,): C_0 summed over the outputs, meaned over m
    return out.reshape(len(grid), len(grid))
