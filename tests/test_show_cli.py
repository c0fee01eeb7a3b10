"""``digitnet show ...``: each picture is written as a PNG whose path is printed, and shows what it
should (checked on the PNG's pixels); users' mistakes give one-line errors and exit status 2."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from digitnet import Network
from digitnet.cli import main
from digitnet.data import write_idx

KINDS = ["weights", "history", "confusion", "network", "noise", "dream"]
FAST = {"noise": ["--samples", "300"], "dream": ["--digit", "3", "--steps", "20"], "confusion": ["--mistakes", "4"]}


@pytest.fixture(scope="module")
def models(tmp_path_factory, mnist) -> dict[str, str]:
    """Two model files trained briefly on 5000 digits: the lesson's network and a ReLU/cross-entropy one."""
    folder = tmp_path_factory.mktemp("models")
    lesson = Network((784, 16, 16, 10), seed=0)
    lesson.fit(mnist["X"], mnist["y"], epochs=2, batch_size=10, learning_rate=1.5, engine="numpy",
               validation_data=(mnist["X_test"][:500], mnist["y_test"][:500]))
    relu = Network((784, 48, 24, 10), activation="relu", cost="cross-entropy", seed=1)
    relu.fit(mnist["X"], mnist["y"], epochs=2, batch_size=10, learning_rate=0.05, engine="numpy",
             validation_data=(mnist["X_test"][:500], mnist["y_test"][:500]))
    paths = {"lesson": str(folder / "lesson.npz"), "relu": str(folder / "relu.npz")}
    lesson.save(paths["lesson"])
    relu.save(paths["relu"])
    return paths


def rgb(path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB")).astype(int)  # (H, W, 3)


@pytest.mark.parametrize("which", ["lesson", "relu"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_picture_is_written_and_its_path_printed(kind, which, models, tmp_path, capsys):
    out = tmp_path / f"{kind}.png"
    assert main(["show", kind, models[which], "--out", str(out), "--dpi", "40", *FAST.get(kind, [])]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    pixels = rgb(out)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # a picture, not a blank page
    assert not list(tmp_path.glob(".*.tmp"))  # written whole, then renamed into place


def test_default_output_name_is_beside_the_current_directory(models, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["show", "history", models["lesson"]]) == 0
    assert capsys.readouterr().out.strip() == "lesson-history.png"
    assert (tmp_path / "lesson-history.png").is_file()


def test_weights_png_is_blue_where_weights_are_positive_and_red_where_negative(models, tmp_path):
    out = tmp_path / "w.png"
    main(["show", "weights", models["lesson"], "--out", str(out), "--dpi", "60"])
    pixels = rgb(out)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    blue = (b > 200) & (r < 80) & (g < 80)
    red = (r > 200) & (b < 80) & (g < 80)
    assert blue.sum() > 200 and red.sum() > 200


def test_network_png_highlights_the_guess(models, tmp_path, mnist):
    out = tmp_path / "n.png"
    assert main(["show", "network", models["lesson"], "--test-index", "7", "--out", str(out), "--dpi", "60"]) == 0
    pixels = rgb(out)
    highlight = (np.abs(pixels - np.array([0xff, 0xcc, 0x33])).sum(axis=-1) < 40)  # the guess's colour
    assert highlight.sum() > 20


def test_network_for_an_image_file(models, tmp_path, mnist, capsys):
    digit = (mnist["X_test"][0].reshape(28, 28) * 255).astype(np.uint8)
    image = tmp_path / "seven.png"
    Image.fromarray(255 - digit).resize((112, 112)).save(image)  # dark ink on white, as drawn on paper
    out = tmp_path / "n.png"
    assert main(["show", "network", models["relu"], str(image), "--out", str(out), "--dpi", "40"]) == 0
    assert out.is_file()
    assert main(["show", "network", models["relu"], str(image), "--test-index", "3"]) == 2
    assert "not both" in capsys.readouterr().err


def test_dream_png_has_a_column_per_digit(models, tmp_path):
    one, three = tmp_path / "one.png", tmp_path / "three.png"
    main(["show", "dream", models["lesson"], "--digit", "5", "--steps", "5", "--out", str(one), "--dpi", "50"])
    main(["show", "dream", models["lesson"], "--digit", "1", "5", "8", "--steps", "5", "--out", str(three),
          "--dpi", "50"])
    assert rgb(three).shape[1] > rgb(one).shape[1] * 1.5


def test_another_idx_dataset_with_class_names(models, tmp_path, mnist, capsys):
    """--data DIR: any MNIST-format directory; its classes.txt names the classes in the picture."""
    data = tmp_path / "letters"
    data.mkdir()
    images = (mnist["X_test"][:200].reshape(-1, 28, 28) * 255).astype(np.uint8)
    labels = mnist["y_test"][:200].astype(np.uint8)
    for split in ("train", "t10k"):
        write_idx(data / f"{split}-images-idx3-ubyte", images)
        write_idx(data / f"{split}-labels-idx1-ubyte", labels)
    (data / "classes.txt").write_text("\n".join(f"class-{k}" for k in range(10)) + "\n")
    out = tmp_path / "c.png"
    assert main(["show", "confusion", models["lesson"], "--data", str(data), "--out", str(out), "--dpi", "40"]) == 0
    assert out.is_file()
    wide = tmp_path / "wide"
    wide.mkdir()
    for split in ("train", "t10k"):
        write_idx(wide / f"{split}-images-idx3-ubyte", np.zeros((5, 10, 10), np.uint8))
        write_idx(wide / f"{split}-labels-idx1-ubyte", np.zeros(5, np.uint8))
    assert main(["show", "noise", models["lesson"], "--data", str(wide), "--out", str(out)]) == 2
    assert "100 pixels" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["show", "weights", "missing.npz"], "does not exist"),
    (["show", "weights", "{lesson}", "--out", "w.jpg"], ".png"),
    (["show", "weights", "{lesson}", "--out", "no/such/dir/w.png"], "does not exist"),
    (["show", "network", "{lesson}", "--test-index", "10000"], "0..9999"),
    (["show", "dream", "{lesson}", "--digit", "10"], "0..9"),
    (["show", "noise", "{lesson}", "--samples", "0"], "--samples"),
    (["show", "confusion", "{lesson}", "--data", "no-such-dir"], "no-such-dir"),
    (["show", "network", "{lesson}", "no-such-image.png"], "no-such-image.png"),
])
def test_users_mistakes_are_one_line_errors(argv, message, models, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([a.format(**models) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitnet: error:") and message in err
    assert not list(tmp_path.glob("*.png"))


def test_a_model_without_history(tmp_path, capsys):
    path = tmp_path / "untrained.npz"
    Network((784, 16, 10), seed=0).save(path)
    assert main(["show", "history", str(path), "--out", str(tmp_path / "h.png")]) == 2
    assert "no training history" in capsys.readouterr().err


def test_show_without_a_display_still_writes_the_png(models, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    out = tmp_path / "h.png"
    assert main(["show", "history", models["lesson"], "--out", str(out), "--show"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out) and "no display" in captured.err
    assert out.is_file()
