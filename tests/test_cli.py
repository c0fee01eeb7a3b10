"""The command line as a user runs it: the default training, evaluate, predict, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitnet import Network, data
from digitnet.cli import main


@pytest.fixture(scope="module")
def default_model(tmp_path_factory):
    """The README's first command: `digitnet train` with no options, in a fresh process."""
    out = tmp_path_factory.mktemp("default") / "digitnet-model.npz"
    proc = subprocess.run([sys.executable, "-m", "digitnet", "train", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@pytest.mark.slow  # trains the default network in a fresh process (module fixture)
def test_default_training_is_the_lesson_network_and_reaches_95_percent(default_model):
    out, stdout = default_model
    net = Network.load(out)
    assert net.sizes == (784, 16, 16, 10)
    assert (net.activation, net.cost_name) == ("sigmoid", "quadratic")
    assert len(net.history) == 30
    assert stdout.count("test accuracy") >= 30
    X, y = data.load_mnist("test")
    accuracy = net.accuracy(X, y)
    assert accuracy >= 0.95
    np.testing.assert_allclose(accuracy, net.history[-1]["test_accuracy"])


@pytest.mark.slow  # trains the default network in a fresh process (module fixture)
def test_evaluate_prints_accuracy_and_per_digit(default_model, capsys):
    out, _ = default_model
    assert main(["evaluate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["examples"] == 10000
    counts = [v["count"] for v in result["per_class"].values()]
    assert sum(counts) == 10000
    per_digit = sum(v["accuracy"] * v["count"] for v in result["per_class"].values())
    np.testing.assert_allclose(per_digit / 10000, result["accuracy"])


@pytest.mark.slow  # trains the default network in a fresh process (module fixture)
def test_predict_reads_images_as_a_person_saves_them(default_model, tmp_path, capsys):
    out, _ = default_model
    X, y = data.load_mnist("test")
    paths, labels = [], []
    for i in range(20):
        # Dark ink on white, 10x larger, as a scanned or drawn digit would be.
        img = Image.fromarray((255 - X[i].reshape(28, 28) * 255).astype(np.uint8)).resize((280, 280))
        paths.append(str(tmp_path / f"digit{i}.png"))
        img.save(paths[-1])
        labels.append(int(y[i]))
    assert main(["predict", str(out), *paths, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    guesses = [r["guess"] for r in results]
    assert np.mean(np.array(guesses) == np.array(labels)) >= 0.85
    assert all(len(r["activations"]) == 10 for r in results)


@pytest.mark.slow  # trains the default network in a fresh process (module fixture)
def test_bad_input_is_one_clear_line_and_nothing_is_overwritten(default_model, tmp_path, capsys):
    out, _ = default_model
    before = out.read_bytes()
    assert main(["train", "--learning-rate", "0", "--out", str(out)]) == 2
    assert "learning rate" in capsys.readouterr().err
    assert main(["train", "--batch-size", "0", "--out", str(out)]) == 2
    assert "batch size" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(out)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
    assert out.read_bytes() == before

    broken = tmp_path / "broken.npz"
    broken.write_bytes(before[: len(before) // 2])
    assert main(["evaluate", str(broken)]) == 2
    assert "broken.npz" in capsys.readouterr().err
    assert main(["predict", str(out), str(tmp_path / "missing.png")]) == 2
    assert "missing.png" in capsys.readouterr().err
    not_image = tmp_path / "note.png"
    not_image.write_text("not an image")
    assert main(["predict", str(out), str(not_image)]) == 2
    assert "note.png" in capsys.readouterr().err


def test_unknown_activation_or_cost_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--activation", "tanh"])
    assert e.value.code == 2
    assert "tanh" in capsys.readouterr().err


@pytest.mark.slow
def test_module_entry_point_shows_every_command():
    proc = subprocess.run([sys.executable, "-m", "digitnet", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for command in ("train", "evaluate", "predict", "show", "serve", "export", "download"):
        assert command in proc.stdout
