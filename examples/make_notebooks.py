"""Write the lesson notebooks in this folder (01_...ipynb to 04_...ipynb) from the cells below.

    python examples/make_notebooks.py            # rewrite the notebooks
    python examples/make_notebooks.py --check    # exit 1 if a notebook differs from this script

The notebooks follow the lessons with digitnet: (1) neurons and layers, (2) the cost and gradient
descent, (3) backpropagation by hand, (4) training and looking inside. They are kept here as
source, without outputs: open one in Jupyter and run it (each runs in a few seconds), or run
them all with ``pytest tests/test_notebooks.py``. Edit this script, not the .ipynb files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import matplotlib.pyplot as plt
import numpy as np

from digitnet import Network
from digitnet.data import load_mnist

X, y = load_mnist("train")            # (60000, 784) brightnesses in [0, 1], and the digits (60000,)
X_test, y_test = load_mnist("test")   # (10000, 784), (10000,)"""

NEURONS = [
    ("md", """\
# 1. What a neuron and a layer are

The first lesson's network, built with digitnet and then computed again by hand: a **neuron** holds
one number, its *activation*, between 0 and 1; a **layer** of neurons is computed from the layer
before as

$$a' = \\sigma(W a + b)$$

where $W$ holds the weights of every connection, $b$ the biases and $\\sigma$ the sigmoid that
squashes any number into (0, 1). We check each step against `net.forward`."""),
    ("code", SETUP),
    ("md", """\
## The input layer: 784 neurons, one per pixel

An image of 28 x 28 pixels is 784 numbers; the activation of input neuron $j$ is the brightness of
pixel $j$, 0 for black and 1 for white."""),
    ("code", """\
x, label = X_test[0], y_test[0]
print(x.shape, "label:", label)
plt.imshow(x.reshape(28, 28), cmap="gray")
plt.title(f"label {label}")
plt.axis("off");"""),
    ("md", """\
## The network: 784-16-16-10

Two hidden layers of 16 neurons and 10 output neurons, one per digit. Layer $l$ has a weight
matrix of shape (k, n), k neurons each fed by the n neurons before, and k biases. A random network
knows nothing, so we train it for a few seconds first (notebook 4 shows the training)."""),
    ("code", """\
net = Network((784, 16, 16, 10), seed=0)
net.fit(X[:20000], y[:20000], epochs=2)
print([W.shape for W in net.W], [b.shape for b in net.b])
print(net.n_parameters, "weights and biases")   # 784*16 + 16 + 16*16 + 16 + 16*10 + 10"""),
    ("code", """\
assert net.n_parameters == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002"""),
    ("md", """\
## One neuron of the first hidden layer

It takes a weighted sum of all 784 input activations, adds its bias, and squashes the result:
$a = \\sigma(w_1 a_1 + w_2 a_2 + \\dots + w_{784} a_{784} + b)$. Written as a plain loop:"""),
    ("code", """\
def sigmoid(z):
    return 1 / (1 + np.exp(-z))

w, bias = net.W[0][0], net.b[0][0]   # the 784 weights into neuron 0 of layer 1, and its bias
z = sum(float(w[j]) * float(x[j]) for j in range(784)) + float(bias)   # the weighted sum
a = sigmoid(z)
print(f"z = {z:.4f}, activation = {a:.4f}")"""),
    ("md", """\
The weights of that neuron, drawn as a 28 x 28 image (blue positive, red negative): the neuron is
lit by ink where its weights are blue and dimmed by ink where they are red."""),
    ("code", """\
limit = np.abs(w).max()
plt.imshow(w.reshape(28, 28), cmap="bwr_r", vmin=-limit, vmax=limit)
plt.colorbar()
plt.title("weights into neuron 0 of layer 1");"""),
    ("md", """\
## A whole layer at once: $a' = \\sigma(W a + b)$

The 16 weighted sums of a layer are one matrix-vector product. Going layer by layer to the
output, by hand, in float64:"""),
    ("code", """\
a0 = x.astype(np.float64)                 # (784,)
a1 = sigmoid(net.W[0] @ a0 + net.b[0])    # (16,)
a2 = sigmoid(net.W[1] @ a1 + net.b[1])    # (16,)
a3 = sigmoid(net.W[2] @ a2 + net.b[2])    # (10,)
print(np.round(a3, 3))
print("guess:", a3.argmax(), " label:", label)"""),
    ("md", "The same numbers as digitnet's `forward`, which returns every layer's activations:"),
    ("code", """\
layers = net.forward(x)
assert len(layers) == 4
np.testing.assert_allclose(a1[0], a, rtol=1e-6)   # the loop above is row 0 of the matrix product
for by_hand, from_digitnet in zip([a0, a1, a2, a3], layers):
    np.testing.assert_allclose(by_hand, from_digitnet, atol=1e-6)"""),
    ("code", """\
plt.bar(range(10), a3)
plt.xticks(range(10))
plt.xlabel("output neuron (digit)")
plt.ylabel("activation")
plt.title(f"the network's answer for an image of a {label}");"""),
    ("md", """\
## Many images at once

digitnet stores a mini-batch of m images as a matrix with one image per row, so the same step
reads $A' = \\sigma(A W^T + b)$, of shape (m, k)."""),
    ("code", """\
A0 = X_test[:8].astype(np.float64)          # (8, 784)
A1 = sigmoid(A0 @ net.W[0].T + net.b[0])    # (8, 16)
A2 = sigmoid(A1 @ net.W[1].T + net.b[1])    # (8, 16)
A3 = sigmoid(A2 @ net.W[2].T + net.b[2])    # (8, 10)
np.testing.assert_allclose(A3, net.predict_proba(X_test[:8]), atol=1e-6)
print("guesses:", A3.argmax(axis=1))
print("labels: ", y_test[:8])"""),
]

GRADIENT_DESCENT = [
    ("md", """\
# 2. The cost and gradient descent

The second lesson: how bad a network is, as one number, the **cost**; and how to make it better by
stepping downhill, **gradient descent**. For one example with desired output $y$ (1 for the right
digit, 0 for the others) the lesson's cost is

$$C_0 = \\sum_j (a_j - y_j)^2$$

and the network's cost $C$ is the average of $C_0$ over the training examples."""),
    ("code", SETUP),
    ("md", "## The cost of one example, by hand"),
    ("code", """\
net = Network((784, 16, 16, 10), seed=0)   # random weights: it knows nothing yet
x, label = X[0], y[0]
target = np.zeros(10)
target[label] = 1                          # the desired output
a = net.forward(x)[-1]                     # the output layer's activations (10,)
C0 = np.sum((a - target) ** 2)
print(f"label {label}: output {np.round(a, 2)}")
print(f"C_0 = {C0:.4f}")
np.testing.assert_allclose(C0, net.cost(x, [label]), rtol=1e-5)"""),
    ("md", """\
## The cost of the network: the average over many examples

Lousy for a random network. A network that answered 0.5 everywhere would score 10 x 0.25 = 2.5 minus
a little; one that answered perfectly would score 0."""),
    ("code", """\
outputs = net.forward(X[:1000])[-1]                      # (1000, 10)
targets = np.eye(10)[y[:1000]]                           # one-hot rows (1000, 10)
C = np.mean(np.sum((outputs - targets) ** 2, axis=1))
print(f"C = {C:.4f} over 1000 examples")
np.testing.assert_allclose(C, net.cost(X[:1000], y[:1000]), rtol=1e-5)"""),
    ("md", """\
## Gradient descent on a function of one number

To find a low point of $C(w)$, start anywhere and step against the slope: $w \\leftarrow w - \\eta\\, C'(w)$.
Steps shrink as the slope flattens, and where we land depends on where we start."""),
    ("code", """\
def C(w):
    return 0.1 * w**4 - 0.9 * w**2 + 0.4 * w + 3

def C_prime(w):
    return 0.4 * w**3 - 1.8 * w + 0.4

ws = np.linspace(-3.3, 3.3, 200)
plt.plot(ws, C(ws), color="gray")
for start, color in [(-3.0, "tab:blue"), (0.5, "tab:orange")]:
    w, path = start, [start]
    for _ in range(50):
        w = w - 0.1 * C_prime(w)   # one step downhill, eta = 0.1
        path.append(w)
    path = np.array(path)
    plt.plot(path, C(path), "o-", color=color, markersize=3, label=f"start {start}: ends at {w:.2f}")
    assert abs(C_prime(w)) < 1e-3   # a point where the slope is (nearly) zero: a local minimum
plt.legend();"""),
    ("md", """\
## The same in 13,002 dimensions

The network's cost is a function of all its weights and biases. Its **gradient** $\\nabla C$ says, for
each of them, how much the cost changes when that one is nudged; $-\\nabla C$ is the direction
downhill. `net.gradients` computes it (by backpropagation, notebook 3). We check one entry of it
by nudging that weight and watching the cost:"""),
    ("code", """\
net64 = Network((784, 16, 16, 10), seed=0, dtype=np.float64)   # float64 for a precise check
Xb, yb = X[:100], y[:100]
dW, db = net64.gradients(Xb, yb)
print([g.shape for g in dW])

l, j, k, eps = 2, 3, 5, 1e-6                  # the weight from neuron 5 of layer 2 to output 3
w0 = net64.W[l][j, k]
net64.W[l][j, k] = w0 + eps
C_plus = net64.cost(Xb, yb)
net64.W[l][j, k] = w0 - eps
C_minus = net64.cost(Xb, yb)
net64.W[l][j, k] = w0
slope = (C_plus - C_minus) / (2 * eps)
print(f"nudging: {slope:.8f}   gradient: {dW[l][j, k]:.8f}")
np.testing.assert_allclose(slope, dW[l][j, k], rtol=1e-5)"""),
    ("md", """\
One step downhill, $W \\leftarrow W - \\eta\\, \\nabla_W C$ for every layer, lowers the cost of those
examples:"""),
    ("code", """\
before = net64.cost(Xb, yb)
net64.step(Xb, yb, learning_rate=1.5)
after = net64.cost(Xb, yb)
print(f"cost {before:.4f} -> {after:.4f}")
assert after < before"""),
    ("md", """\
## Stochastic gradient descent

The real gradient averages over all 60,000 examples, which is slow to compute. Instead each step
uses a small random **mini-batch** (10 examples here): a drunkard's walk downhill, but many more
steps per second. The cost over 2,000 examples, every 50 steps:"""),
    ("code", """\
net = Network((784, 16, 16, 10), seed=1)
rng = np.random.default_rng(0)
steps, costs = [], []
for step in range(1501):
    if step % 50 == 0:
        steps.append(step)
        costs.append(net.cost(X[:2000], y[:2000]))
    batch = rng.integers(0, len(X), size=10)
    net.step(X[batch], y[batch], learning_rate=1.5)
plt.plot(steps, costs, "o-", markersize=3)
plt.xlabel("mini-batch steps")
plt.ylabel("cost C")
print(f"cost {costs[0]:.3f} -> {costs[-1]:.3f}; accuracy on the test set {net.accuracy(X_test, y_test):.1%}")
assert costs[-1] < costs[0] / 2"""),
]

BACKPROP = [
    ("md", """\
# 3. Backpropagation, by hand, on one example

The third and fourth lessons: how the gradient of the cost is computed. For one training example
we go forward through the network keeping every weighted sum $z$ and activation $a$, then backward
with the chain rule. With $\\delta^{(l)} = \\partial C_0 / \\partial z^{(l)}$:

- output layer: $\\delta^{(L)} = 2(a^{(L)} - y) \\odot \\sigma'(z^{(L)})$
- each layer before: $\\delta^{(l)} = (W^{(l+1)})^T \\delta^{(l+1)} \\odot \\sigma'(z^{(l)})$
- the gradient: $\\partial C_0/\\partial W^{(l)} = \\delta^{(l)} (a^{(l-1)})^T$ and
  $\\partial C_0/\\partial b^{(l)} = \\delta^{(l)}$

We compute all of it with NumPy and check it against `net.gradients`; the check fails this
notebook if anything is off."""),
    ("code", SETUP),
    ("code", """\
net = Network((784, 16, 16, 10), seed=0, dtype=np.float64)
net.fit(X[:5000], y[:5000], epochs=1)          # a little trained, so the numbers are not all alike
x, label = X[7], y[7]
target = np.zeros(10)
target[label] = 1

def sigma(z):
    return 1 / (1 + np.exp(-z))

def sigma_prime(z):
    return sigma(z) * (1 - sigma(z))"""),
    ("md", "## Forward, keeping every $z$ and $a$"),
    ("code", """\
a = [x.astype(np.float64)]   # a[0] is the input layer
zs = []
for W, b in zip(net.W, net.b):
    z = W @ a[-1] + b        # (k,)
    zs.append(z)
    a.append(sigma(z))
print("output:", np.round(a[-1], 3), " label:", label)
C0 = np.sum((a[-1] - target) ** 2)
print(f"C_0 = {C0:.4f}")"""),
    ("md", """\
## What the output layer wants

$-\\partial C_0/\\partial a^{(L)} = -2(a^{(L)} - y)$: the nudge each output neuron would like, up for
the right digit and down for the others, in proportion to how far off it is."""),
    ("code", """\
wish = -2 * (a[-1] - target)
plt.bar(range(10), wish, color=["tab:blue" if v > 0 else "tab:red" for v in wish])
plt.xticks(range(10))
plt.title(f"desired nudges of the output neurons for a {label}");"""),
    ("md", """\
## One weight, by the chain rule

For the weight $w_{jk}$ from neuron $k$ of the last hidden layer to output neuron $j$:
$z_j = \\dots + w_{jk} a_k + \\dots$, $a_j = \\sigma(z_j)$, $C_0 = \\dots + (a_j - y_j)^2 + \\dots$, so

$$\\frac{\\partial C_0}{\\partial w_{jk}} = \\frac{\\partial z_j}{\\partial w_{jk}}
\\frac{\\partial a_j}{\\partial z_j} \\frac{\\partial C_0}{\\partial a_j} = a_k \\, \\sigma'(z_j)\\, 2(a_j - y_j)$$"""),
    ("code", """\
j, k = label, 4
chain = a[2][k] * sigma_prime(zs[2][j]) * 2 * (a[3][j] - target[j])
print(f"dC0/dw[{j},{k}] = {chain:.6e}")"""),
    ("md", "## Every weight: the deltas, from the output back to the first layer"),
    ("code", """\
L = len(net.W)                               # 3 layers of weights
delta = [None] * L
delta[L - 1] = 2 * (a[L] - target) * sigma_prime(zs[L - 1])            # (10,)
for l in range(L - 2, -1, -1):
    delta[l] = (net.W[l + 1].T @ delta[l + 1]) * sigma_prime(zs[l])    # (16,)
dW = [np.outer(delta[l], a[l]) for l in range(L)]   # (16, 784), (16, 16), (10, 16)
db = [delta[l] for l in range(L)]
print([g.shape for g in dW])
np.testing.assert_allclose(dW[2][j, k], chain)       # the one weight above is one entry of these"""),
    ("md", "## Checked against digitnet"),
    ("code", """\
dW_net, db_net = net.gradients(x[None, :], [label])
for l in range(L):
    np.testing.assert_allclose(dW[l], dW_net[l], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(db[l], db_net[l], rtol=1e-10, atol=1e-15)
print("backpropagation by hand = net.gradients, for all", net.n_parameters, "parameters")"""),
    ("md", """\
And against the definition of a derivative, independently of any backpropagation: nudge one
weight of the first layer by $\\pm\\epsilon$ and watch $C_0$."""),
    ("code", """\
def cost_of_x(net):
    return net.cost(x, [label])

l, j0, k0, eps = 0, 3, 14 * 28 + 14, 1e-6     # a weight from the centre pixel into hidden neuron 3
w0 = net.W[l][j0, k0]
net.W[l][j0, k0] = w0 + eps
C_plus = cost_of_x(net)
net.W[l][j0, k0] = w0 - eps
C_minus = cost_of_x(net)
net.W[l][j0, k0] = w0
np.testing.assert_allclose((C_plus - C_minus) / (2 * eps), dW[0][j0, k0], rtol=1e-5, atol=1e-12)"""),
    ("md", """\
## Which first-layer weights this example wants changed

The gradient into hidden neuron 3, as an image: only pixels with ink (a nonzero input activation)
get a nudge, since $\\partial C_0/\\partial w_{jk} = \\delta_j a_k$."""),
    ("code", """\
g = -dW[0][3].reshape(28, 28)
limit = np.abs(g).max()
fig, axes = plt.subplots(1, 2, figsize=(7, 3))
axes[0].imshow(x.reshape(28, 28), cmap="gray")
axes[0].set_title(f"the example ({label})")
axes[1].imshow(g, cmap="bwr_r", vmin=-limit, vmax=limit)
axes[1].set_title("-dC0/dW into neuron 3")
for ax in axes:
    ax.axis("off")
assert np.all(dW[0][:, x == 0] == 0)   # no ink, no nudge"""),
    ("md", """\
## A mini-batch: the average of the examples' gradients

Gradient descent averages these nudges over the examples of a mini-batch. digitnet does the
whole mini-batch at once with matrices; it equals the average of one-example backpropagations."""),
    ("code", """\
batch = slice(100, 110)
per_example = [net.gradients(X[i][None, :], [y[i]])[0] for i in range(100, 110)]
dW_batch, _ = net.gradients(X[batch], y[batch])
for l in range(L):
    np.testing.assert_allclose(dW_batch[l], np.mean([g[l] for g in per_example], axis=0), rtol=1e-9, atol=1e-15)"""),
]

TRAINING = [
    ("md", """\
# 4. Training, and looking inside the trained network

Stochastic gradient descent over all of MNIST's training images, a few passes (**epochs**), then
a look at what the network learned: how well it does, where it fails, and what its first layer's
weights look like. (The lesson's question: do the hidden neurons pick up edges and loops?)"""),
    ("code", SETUP),
    ("code", """\
net = Network((784, 16, 16, 10), seed=0)
history = net.fit(X[:30000], y[:30000], epochs=3, batch_size=10, learning_rate=1.5,
                  validation_data=(X_test, y_test))
for record in history:
    print(f"epoch {record['epoch']}: cost {record['train_cost']:.4f}, "
          f"test accuracy {record['test_accuracy']:.2%}, {record['seconds']:.1f} s")"""),
    ("code", """\
accuracy = net.accuracy(X_test, y_test)
print(f"{accuracy:.2%} of the 10,000 test images right")
assert accuracy > 0.85"""),
    ("md", "## The cost and the accuracy after each epoch"),
    ("code", """\
epochs = [r["epoch"] for r in history]
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
left.plot(epochs, [r["train_cost"] for r in history], "o-", label="training")
left.plot(epochs, [r["test_cost"] for r in history], "o-", label="test")
left.set_xlabel("epoch")
left.set_ylabel("cost")
left.legend()
right.plot(epochs, [r["test_accuracy"] for r in history], "o-")
right.set_xlabel("epoch")
right.set_ylabel("test accuracy");"""),
    ("md", """\
## Which digits it confuses

Row = the true digit, column = the guess. Counted directly from the guesses:"""),
    ("code", """\
guess = net.predict(X_test)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, guess), 1)
assert confusion.sum() == 10_000 and np.trace(confusion) == round(accuracy * 10_000)
plt.imshow(confusion, cmap="Blues")
plt.xticks(range(10))
plt.yticks(range(10))
plt.xlabel("guess")
plt.ylabel("true digit")
for t in range(10):
    for g in range(10):
        plt.text(g, t, confusion[t, g], ha="center", va="center", fontsize=7,
                 color="white" if confusion[t, g] > confusion.max() / 2 else "black")"""),
    ("md", "## Some of its mistakes"),
    ("code", """\
wrong = np.flatnonzero(guess != y_test)[:10]
fig, axes = plt.subplots(1, len(wrong), figsize=(12, 1.8))
for ax, i in zip(axes, wrong):
    ax.imshow(X_test[i].reshape(28, 28), cmap="gray")
    ax.set_title(f"{y_test[i]} -> {guess[i]}", fontsize=9)
    ax.axis("off")"""),
    ("md", """\
## Inside: the weights into each of the 16 first-layer neurons

Blue weights are pulled up by ink, red ones down. As the lesson says, they are not the neat edges
and loops one might hope for: rather blobs, which together are enough to separate the digits."""),
    ("code", """\
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
limit = np.abs(net.W[0]).max()
for neuron, ax in enumerate(axes.flat):
    ax.imshow(net.W[0][neuron].reshape(28, 28), cmap="bwr_r", vmin=-limit, vmax=limit)
    ax.set_title(f"neuron {neuron}", fontsize=8)
    ax.axis("off")"""),
    ("md", """\
## Random noise: the network answers anyway

Nothing in its training told it what "not a digit" looks like, so shown noise it still lights
output neurons, often confidently."""),
    ("code", """\
noise = np.random.default_rng(0).random((1000, 784))
a = net.predict_proba(noise)                     # (1000, 10)
print("guesses on noise:", np.bincount(a.argmax(axis=1), minlength=10))
print(f"brightest output on noise, median {np.median(a.max(axis=1)):.2f}; "
      f"on digits {np.median(net.predict_proba(X_test).max(axis=1)):.2f}")
plt.imshow(noise[0].reshape(28, 28), cmap="gray")
plt.title(f"noise, 'seen' as a {a[0].argmax()}")
plt.axis("off");"""),
    ("md", """\
## The same pictures from `digitnet.plots`

digitnet draws these pictures for you (they are what `digitnet show` saves), for any network or
model file. Its network picture lights each neuron by its activation for one image, as the
lesson's animations do:"""),
    ("code", """\
from digitnet import plots

plots.plot_network(net, X_test[0], label=y_test[0])"""),
    ("code", "plots.plot_weights(net)"),
    ("code", "plots.plot_dream(net, digits=[3, 5], steps=50)"),
]

NOTEBOOKS = {
    "01_neurons_and_layers.ipynb": NEURONS,
    "02_cost_and_gradient_descent.ipynb": GRADIENT_DESCENT,
    "03_backpropagation_by_hand.ipynb": BACKPROP,
    "04_training_and_looking_inside.ipynb": TRAINING,
}


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook of the given (kind, source) cells, with fixed cell ids and no outputs."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source) in enumerate(cells):
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        cell.id = f"cell-{i:02d}"  # fixed ids: the same script writes the same files
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) the lesson notebooks.")
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    args = parser.parse_args(argv)
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = HERE / name
        wanted = text(build(cells))
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != wanted:
                stale.append(name)
        else:
            path.write_text(wanted, encoding="utf-8")
            print(path)
    if stale:
        print(f"out of date: {', '.join(stale)}; run python examples/make_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
