"""ONNX export: onnxruntime, running the exported graph, gives digitnet's outputs on all of MNIST's test set."""

from __future__ import annotations

import argparse
import importlib
import os

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import DigitNetError


def _require(name: str):
    """The optional module ``name``; in CI (CI=true) its absence is a failure, locally a visible skip."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"{name} is not installed (pip install 'digitnet[onnx]')")


onnx = _require("onnx")
ort = _require("onnxruntime")


def run_onnx(path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(["probabilities"], {"image": X})
    return out


@pytest.mark.parametrize(
    "sizes, activation, cost, dtype",
    [
        ((784, 16, 16, 10), "sigmoid", "quadratic", np.float32),  # the lesson's network
        ((784, 100, 10), "sigmoid", "cross-entropy", np.float32),
        ((784, 30, 10), "relu", "quadratic", np.float32),
        ((784, 64, 32, 16, 10), "relu", "cross-entropy", np.float64),
        ((784, 10), "sigmoid", "quadratic", np.float64),  # no hidden layer
    ],
)
def test_random_networks_match_digitnet_on_the_test_set(tmp_path, mnist, sizes, activation, cost, dtype):
    net = Network(sizes, activation, cost, seed=len(sizes), dtype=dtype)
    # Random biases too, so that a Gemm that dropped or misplaced them would show.
    net.b = [(0.5 * net.rng.standard_normal(b.shape)).astype(net.dtype) for b in net.b]
    net.to_onnx(tmp_path / "model.onnx")
    out = run_onnx(tmp_path / "model.onnx", mnist["X_test"])
    assert out.shape == (10_000, 10) and out.dtype == np.float32
    expected = net.predict_proba(mnist["X_test"])
    assert np.max(np.abs(out - expected)) <= 1e-5
    # and against an independent float64 forward pass, written out here
    a = mnist["X_test"].astype(np.float64)
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        z = a @ W.astype(np.float64).T + b
        if l < len(net.W) - 1:
            a = np.maximum(z, 0) if activation == "relu" else 1 / (1 + np.exp(-z))
        elif cost == "quadratic":
            a = 1 / (1 + np.exp(-z))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, a, atol=1e-5, rtol=0)


def test_a_trained_network_gives_the_same_outputs_and_guesses(tmp_path, mnist):
    net = Network(seed=0)
    net.fit(mnist["X"], mnist["y"], epochs=2)
    assert net.accuracy(mnist["X_test"], mnist["y_test"]) > 0.75  # it has learned something
    net.to_onnx(tmp_path / "trained.onnx")
    out = run_onnx(tmp_path / "trained.onnx", mnist["X_test"])
    assert np.max(np.abs(out - net.predict_proba(mnist["X_test"]))) <= 1e-5
    # The guesses agree except where the top two outputs are closer than float32 rounding.
    a = net.predict_proba(mnist["X_test"])
    top2 = np.sort(a, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-5
    np.testing.assert_array_equal(np.argmax(out, axis=1)[clear], net.predict(mnist["X_test"])[clear])


def test_the_graph_is_one_gemm_and_one_activation_per_layer(tmp_path):
    net = Network((784, 16, 16, 10), "relu", "cross-entropy", seed=0)
    net.to_onnx(tmp_path / "m.onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"]
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == ["probabilities"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and dims[1].dim_value == 784
    props = {p.key: p.value for p in model.metadata_props}
    assert props["sizes"] == "[784, 16, 16, 10]" and props["activation"] == "relu"
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    np.testing.assert_array_equal(weights["W1"], net.W[1])
    assert weights["W0"].shape == (16, 784)


def test_one_image_at_a_time_as_well(tmp_path, mnist):
    net = Network(seed=3)
    net.to_onnx(tmp_path / "m.onnx")
    out = run_onnx(tmp_path / "m.onnx", mnist["X_test"][:1])
    np.testing.assert_allclose(out[0], net.predict_proba(mnist["X_test"][0]), atol=1e-6, rtol=0)


def test_export_command_writes_a_model_that_runs(tmp_path, capsys, mnist):
    from digitnet.cli import export

    net = Network((784, 20, 10), seed=5)
    net.save(tmp_path / "m.npz")
    parser = argparse.ArgumentParser()
    export.register(parser.add_subparsers())
    args = parser.parse_args(["export", str(tmp_path / "m.npz"), str(tmp_path / "m.onnx")])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "m.onnx")
    out = run_onnx(tmp_path / "m.onnx", mnist["X_test"][:500])
    np.testing.assert_allclose(out, net.predict_proba(mnist["X_test"][:500]), atol=1e-5, rtol=0)


def test_export_command_reports_users_errors(tmp_path):
    from digitnet.cli import main

    Network((784, 20, 10), seed=5).save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "m.onnx")]) == 2
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path)]) == 2
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(DigitNetError, match="directory"):
        Network((784, 20, 10), seed=5).to_onnx(tmp_path)
