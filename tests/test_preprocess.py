"""digitnet.preprocess: any picture of a digit -> MNIST's 28x28 form.

Checked by content, against independent computations: the ink's bounding box fits the 20x20
box, the centre of mass (computed here with np.indices) sits at (14, 14) within half a pixel as
in MNIST itself, both polarities and transparent canvases give the same digit, real MNIST digits
survive the trip, and every bad file becomes a DataError naming it.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from digitnet import preprocess
from digitnet.errors import DataError, DigitNetError, ShapeError
from digitnet.preprocess import is_blank, load_image, to_mnist

# ---- helpers: independent of the module under test -------------------------------------------


def mnist_test_digits(n: int) -> np.ndarray:
    """The first n bundled MNIST test images, (n, 28, 28) uint8, read straight from the IDX file."""
    path = resources.files("digitnet") / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
    with path.open("rb") as raw, gzip.open(raw) as f:
        header = f.read(16)
        magic, count, rows, cols = struct.unpack(">IIII", header)
        assert (magic, rows, cols) == (2051, 28, 28) and count >= n
        return np.frombuffer(f.read(n * 784), dtype=np.uint8).reshape(n, 28, 28)


def centre_of_mass(img: np.ndarray) -> np.ndarray:
    """(row, column) of the mass centre, pixel-index coordinates."""
    img = np.asarray(img, dtype=np.float64).reshape(28, 28)
    rows, cols = np.indices(img.shape)
    return np.array([(rows * img).sum(), (cols * img).sum()]) / img.sum()


def bbox_size(img: np.ndarray, level: float = 0.0) -> tuple[int, int]:
    """(height, width) of the box around the pixels above level."""
    ys, xs = np.nonzero(np.asarray(img).reshape(28, 28) > level)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def seven(size: int = 200, ink: int | tuple = 0, paper: int | tuple = 255, mode: str = "L") -> Image.Image:
    """A hand-drawn-like 7: a bar and a slanted stroke, off-centre on purpose."""
    img = Image.new(mode, (size, size), paper)
    draw = ImageDraw.Draw(img)
    s = size / 200
    draw.line([(40 * s, 30 * s), (130 * s, 30 * s), (80 * s, 150 * s)], fill=ink, width=int(14 * s), joint="curve")
    return img


def png_with_header(path: Path, width: int, height: int) -> None:
    """A PNG whose IHDR (with a valid CRC) claims width x height, followed by a tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


# ---- the output and MNIST's recipe -------------------------------------------------------------


def test_output_is_784_floats_in_unit_range_with_ink_at_one():
    out = to_mnist(seven())
    assert out.shape == (784,) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(out.max(), 1.0, atol=1e-6)
    assert (out > 0.5).sum() > 20  # a stroke, not a dot


def test_mnist_centres_are_where_the_module_puts_them():
    """The rule CENTRE encodes, checked on the data: MNIST's centres of mass round to (14, 14)."""
    coms = np.array([centre_of_mass(x) for x in mnist_test_digits(300)])
    assert np.all(np.abs(coms - preprocess.CENTRE) <= 0.5 + 1e-9)


def test_a_real_mnist_digit_stays_itself():
    digits = mnist_test_digits(100)
    diffs = []
    for x in digits:
        out = to_mnist(x)
        diffs.append(np.abs(out - x.reshape(-1) / 255.0).mean())
        assert np.all(np.abs(centre_of_mass(out) - 14.0) <= 0.5 + 1e-6)
    diffs = np.array(diffs)
    # Unchanged but for the stretch to a maximum of 1 (255/254), except where cropping a
    # faint pixel tips a centre of mass lying right on 13.5 by one pixel.
    assert np.median(diffs) < 1e-3
    assert (diffs < 5e-3).mean() >= 0.95


def test_a_real_mnist_digit_survives_upscaling_and_inversion_through_a_png(tmp_path):
    digits = mnist_test_digits(20)
    diffs, cosines = [], []
    for i, x in enumerate(digits):
        big = Image.fromarray(255 - x).resize((280, 280), Image.Resampling.BICUBIC).convert("RGB")
        path = tmp_path / f"digit{i}.png"
        big.save(path)
        out = load_image(path)
        ref = x.reshape(-1) / 255.0
        diffs.append(np.abs(out - ref).mean())
        cosines.append(out @ ref / np.linalg.norm(out) / np.linalg.norm(ref))
        assert np.all(np.abs(centre_of_mass(out) - centre_of_mass(x)) <= 1.0 + 1e-6)
        assert max(bbox_size(out)) in (19, 20)
    # Two different MNIST digits differ by about 0.15 on average; the blur of the bicubic
    # upscale alone accounts for about 0.013.
    assert np.mean(diffs) < 0.04 and max(diffs) < 0.1
    assert np.median(cosines) > 0.95


@settings(max_examples=60, deadline=None)
@given(
    canvas=st.integers(60, 300),
    height=st.floats(0.1, 0.9),
    aspect=st.floats(0.15, 1.5),
    where=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    dark_on_light=st.booleans(),
)
def test_any_ellipse_is_scaled_to_the_20_box_and_centred_by_mass(canvas, height, aspect, where, dark_on_light):
    h = max(3.0, height * canvas)
    w = min(canvas - 2.0, max(3.0, h * aspect))
    top = where[0] * (canvas - 1 - h)
    left = where[1] * (canvas - 1 - w)
    ink, paper = (0, 255) if dark_on_light else (255, 0)
    img = Image.new("L", (canvas, canvas), paper)
    ImageDraw.Draw(img).ellipse([left, top, left + w, top + h], fill=ink)

    out = to_mnist(img)
    bh, bw = bbox_size(out)
    assert max(bh, bw) in (19, 20)
    # The smaller side keeps the aspect ratio, to a pixel or so of rounding and anti-aliasing.
    drawn = np.asarray(img) != paper
    ys, xs = np.nonzero(drawn)
    dh, dw = np.ptp(ys) + 1, np.ptp(xs) + 1
    expected_small = 20 * min(dh, dw) / max(dh, dw)
    assert abs(min(bh, bw) - expected_small) <= 1.5
    assert np.all(np.abs(centre_of_mass(out) - 14.0) <= 0.5 + 1e-6)


def test_a_hand_drawn_one_becomes_a_vertical_stroke_in_the_middle():
    img = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(img).line([(70, 30), (70, 170)], fill="black", width=16)  # left of centre
    out = to_mnist(img).reshape(28, 28)
    bh, bw = bbox_size(out, level=0.1)
    assert bh == 20 and bw <= 3
    strong_cols = np.flatnonzero(out.max(axis=0) > 0.5)
    assert set(strong_cols) <= {12, 13, 14, 15} and len(strong_cols) >= 1
    rows = np.flatnonzero(out.max(axis=1) > 0.1)
    assert np.all(out[rows[0] : rows[-1] + 1, strong_cols].max(axis=1) > 0.5)  # unbroken, top to bottom
    assert np.all(np.abs(centre_of_mass(out) - 14.0) <= 0.5 + 1e-6)


@pytest.mark.parametrize("flip", [False, True])
def test_a_lopsided_digit_keeps_all_its_ink(flip):
    """When the centre of mass cannot reach (14, 14) inside the field, no ink is cut off."""
    a = np.zeros((100, 100), dtype=np.float32)
    a[:, 50] = 0.2  # faint, but above the threshold: it sets the box's height
    a[85:, 40:61] = 1.0  # all the weight at the bottom
    out = to_mnist(a[::-1] if flip else a).reshape(28, 28)
    assert abs(centre_of_mass(out)[0] - 14.0) > 0.5  # it would have to move beyond the edge
    assert bbox_size(out)[0] == 20
    if flip:  # weight at the top: pushed against the bottom edge, whole
        assert out[8].max() > 0.5 and out[27].max() > 0 and not out[:8].any()
    else:  # weight at the bottom: pushed against the top edge, whole
        assert out[0].max() > 0 and out[19].max() > 0.5 and not out[20:].any()


# ---- polarity, colour, transparency ------------------------------------------------------------


def test_dark_on_light_and_light_on_dark_give_the_same_digit():
    dark_ink = to_mnist(seven(ink=0, paper=255))
    light_ink = to_mnist(seven(ink=255, paper=0))
    np.testing.assert_allclose(dark_ink, light_ink, atol=1e-6)


def test_grey_paper_and_grey_ink_are_stretched_to_mnist_levels():
    photo = np.asarray(seven(ink=90, paper=200))  # pencil on paper: little contrast
    np.testing.assert_allclose(to_mnist(photo), to_mnist(seven()), atol=0.02)


def test_every_input_type_gives_the_same_digit():
    grey = np.asarray(seven())  # (200, 200) uint8, dark on light
    inputs = {
        "uint8 2-D": grey,
        "float 2-D": grey / 255.0,
        "float32 ink grid": (1.0 - grey / 255.0).astype(np.float32),
        "RGB uint8": np.stack([grey] * 3, axis=2),
        "RGB float": np.stack([grey / 255.0] * 3, axis=2),
        "(H, W, 1)": grey[..., None],
        "nested lists of ints": grey.tolist(),
        "PIL L": Image.fromarray(grey),
        "PIL RGB": Image.fromarray(grey).convert("RGB"),
        "PIL P": Image.fromarray(grey).convert("RGB").convert("P"),
        "PIL 1": Image.fromarray(grey).convert("1", dither=Image.Dither.NONE),
        "PIL I;16": Image.fromarray(grey.astype(np.uint16) * 257),
        "PIL F": Image.fromarray(grey.astype(np.float32) / 255),
    }
    reference = to_mnist(grey)
    for name, image in inputs.items():
        np.testing.assert_allclose(to_mnist(image), reference, atol=0.02, err_msg=name)


def test_colour_counts_by_its_luminance_as_in_pillow():
    """Strokes of three colours weigh by ITU-R 601 luma; Pillow's own RGB -> L is the reference."""
    img = Image.new("RGB", (200, 200), "white")
    draw = ImageDraw.Draw(img)
    draw.line([(40, 40), (160, 40)], fill=(255, 0, 0), width=14)
    draw.line([(160, 40), (90, 170)], fill=(0, 160, 0), width=14)
    draw.line([(70, 110), (150, 110)], fill=(0, 0, 255), width=14)
    reference = to_mnist(img.convert("L"))
    rgb = np.asarray(img)
    np.testing.assert_allclose(to_mnist(rgb / 255.0), reference, atol=0.01)  # NumPy's luma
    np.testing.assert_allclose(to_mnist(rgb), reference, atol=0.01)


@pytest.mark.parametrize("stroke_colour", [(0, 0, 0), (255, 255, 255), (20, 40, 200)])
def test_strokes_on_a_transparent_canvas(stroke_colour):
    """A canvas export: transparent black (0, 0, 0, 0) everywhere but the strokes."""
    alpha = 255 - np.asarray(seven())  # anti-aliased edges are partly transparent
    rgba = np.zeros((200, 200, 4), dtype=np.uint8)
    rgba[..., :3] = stroke_colour
    rgba[..., 3] = alpha
    reference = to_mnist(alpha)  # the alpha channel is the ink
    np.testing.assert_allclose(to_mnist(rgba), reference, atol=0.02)
    np.testing.assert_allclose(to_mnist(Image.fromarray(rgba, "RGBA")), reference, atol=0.02)
    np.testing.assert_allclose(to_mnist(rgba / 255.0), reference, atol=0.02)


def test_transparent_holes_in_an_opaque_canvas_take_its_colour():
    rgba = np.asarray(seven(mode="RGBA", ink=(0, 0, 0, 255), paper=(255, 255, 255, 255))).copy()
    rgba[150:190, 150:190] = (0, 0, 0, 0)  # a transparent black patch away from the strokes
    np.testing.assert_allclose(to_mnist(rgba), to_mnist(seven()), atol=0.02)


# ---- blank canvases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, image",
    [
        ("white uint8", np.full((280, 280), 255, dtype=np.uint8)),
        ("black uint8", np.zeros((280, 280), dtype=np.uint8)),
        ("grey float", np.full((50, 80), 0.4)),
        ("transparent RGBA", np.zeros((100, 100, 4), dtype=np.uint8)),
        ("faint noise", 0.5 + 0.04 * np.random.default_rng(0).random((100, 100))),
        ("PIL white", Image.new("RGB", (64, 64), "white")),
        ("one pixel", np.ones((1, 1))),
    ],
)
def test_a_blank_image_gives_zeros(name, image):
    assert is_blank(image)
    out = to_mnist(image)
    assert out.shape == (784,) and out.dtype == np.float32
    assert not out.any()


def test_a_digit_is_not_blank():
    assert not is_blank(seven())


# ---- bad arrays -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, image",
    [
        ("1-D", np.ones(784)),
        ("4-D", np.ones((2, 28, 28, 1))),
        ("5 channels", np.ones((28, 28, 5))),
        ("no pixels", np.zeros((0, 28))),
        ("NaN", np.full((28, 28), np.nan)),
        ("floats above 1", np.full((28, 28), 255.0)),
        ("negative integers", np.full((28, 28), -1)),
        ("strings", np.full((28, 28), "x")),
    ],
)
def test_an_array_that_is_not_an_image_raises_shape_error(name, image):
    with pytest.raises(ShapeError):
        to_mnist(image)


# ---- files ------------------------------------------------------------------------------------


def test_load_image_reads_png_and_jpeg(tmp_path):
    reference = to_mnist(seven())
    seven().save(tmp_path / "seven.png")
    seven().convert("RGB").save(tmp_path / "seven.jpg", quality=90)
    np.testing.assert_allclose(load_image(tmp_path / "seven.png"), reference, atol=1e-6)
    np.testing.assert_allclose(load_image(str(tmp_path / "seven.jpg")), reference, atol=0.05)


def test_load_image_reads_a_16_bit_png(tmp_path):
    Image.fromarray(np.asarray(seven()).astype(np.uint16) * 257).save(tmp_path / "seven16.png")
    np.testing.assert_allclose(load_image(tmp_path / "seven16.png"), to_mnist(seven()), atol=0.02)


def test_load_image_follows_the_exif_rotation(tmp_path):
    """A phone stores a portrait photo sideways plus an Orientation tag; the digit must stand up."""
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).line([(30, 100), (170, 100)], fill=0, width=16)  # stored lying down
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    img.save(tmp_path / "photo.jpg", exif=exif)
    out = load_image(tmp_path / "photo.jpg")
    bh, bw = bbox_size(out, level=0.1)
    assert bh == 20 and bw <= 4


def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    files["missing"] = tmp_path / "no-such-digit.png"
    files["directory"] = tmp_path / "a-folder.png"
    files["directory"].mkdir()
    files["empty"] = tmp_path / "empty.png"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "notes.png"
    files["text"].write_text("this is not a picture of a digit\n")
    seven().save(tmp_path / "good.png")
    good = (tmp_path / "good.png").read_bytes()
    files["truncated"] = tmp_path / "truncated.png"
    files["truncated"].write_bytes(good[: len(good) // 2])
    files["corrupt"] = tmp_path / "corrupt.png"
    damaged = bytearray(good)
    for i in range(60, len(good) - 20, 7):
        damaged[i] ^= 0x5A
    files["corrupt"].write_bytes(bytes(damaged))
    seven().convert("RGB").save(tmp_path / "good.jpg")
    good_jpg = (tmp_path / "good.jpg").read_bytes()
    files["truncated jpeg"] = tmp_path / "truncated.jpg"
    files["truncated jpeg"].write_bytes(good_jpg[: len(good_jpg) // 3])
    files["zero size"] = tmp_path / "zero.png"
    png_with_header(files["zero size"], 0, 0)
    files["bomb"] = tmp_path / "bomb.png"
    png_with_header(files["bomb"], 100_000, 100_000)  # 10 gigapixels claimed in 90 bytes
    files["warned"] = tmp_path / "warned.png"
    png_with_header(files["warned"], 10_000, 10_000)  # 100 megapixels: Pillow only warns
    files["large"] = tmp_path / "large.png"
    png_with_header(files["large"], 8_000, 8_000)  # 64 megapixels: under Pillow's limit, over ours
    return files


BAD_FILES = [
    "missing",
    "directory",
    "empty",
    "text",
    "truncated",
    "corrupt",
    "truncated jpeg",
    "zero size",
    "bomb",
    "warned",
    "large",
]


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_raises_data_error_naming_it(tmp_path, kind):
    path = bad_files(tmp_path)[kind]
    with pytest.raises(DataError) as caught:
        load_image(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, DigitNetError)


def test_the_pixel_limit_is_ours_to_set(tmp_path, monkeypatch):
    seven(size=100).save(tmp_path / "seven.png")
    monkeypatch.setattr(preprocess, "MAX_PIXELS", 100 * 100 - 1)
    with pytest.raises(DataError, match="scale it down"):
        load_image(tmp_path / "seven.png")
