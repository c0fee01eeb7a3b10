"""Bring any picture of a digit to MNIST's form: 28x28, light ink on black, centred by mass.

The network only ever saw MNIST digits, so a digit from a file or from the web page's canvas must
look like one before it is fed in. LeCun, Cortes and Burges made MNIST this way:

1. each digit's bounding box was size-normalised to fit a 20x20 box, keeping its aspect ratio;
   the anti-aliasing of that resize leaves grey levels at the edges of the strokes;
2. the 20x20 digit was placed in a 28x28 field so that its centre of mass sits at the centre.

The bundled test set confirms step 2 with an integer shift: every digit's centre of mass, in
pixel-index coordinates (row, column), lies in [13.5, 14.5], i.e. rounds to (14, 14).

``to_mnist`` repeats the recipe on any image:

- greyscale in [0, 1] (RGB by the ITU-R 601 luma, as Pillow's "L"; transparent pixels painted in
  the background colour);
- polarity: the background is the median of the outer 1-pixel frame; ink is what differs from
  it, so dark-on-light and light-on-dark give the same result, ink = 1 and background = 0;
- the ink is stretched so its strongest pixel is 1 (nearly every MNIST digit reaches 255);
- crop to the bounding box of the pixels above ``INK_THRESHOLD`` (specks fainter than that do not
  widen it; grey levels inside are kept), resize so the larger side is 20 (Pillow, anti-aliased),
  paste into 28x28 so the centre of mass rounds to (14, 14).

An image already in MNIST's form comes back as itself (up to that stretch).

A blank image (no ink, e.g. an empty canvas) is valid input: it gives 784 zeros, and ``is_blank``
says so. Only Pillow and NumPy are used.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from .errors import DataError, DigitNetError, ShapeError
from .files import open_regular

SIDE = 28  # MNIST images are SIDE x SIDE
BOX = 20  # the digit's bounding box is scaled so its larger side is BOX
CENTRE = 14.0  # where MNIST puts the centre of mass, in pixel-index coordinates (row, column)
BLANK_CONTRAST = 0.1  # ink fainter than this against the background counts as no ink at all
INK_THRESHOLD = 0.1  # the bounding box holds the pixels above this fraction of the strongest stroke
MAX_PIXELS = 50_000_000  # larger files are refused (decompression bombs); a 12 MP photo is fine
# What is decoded whole: a JPEG is decoded at 1/2..1/8 scale (draft), other formats in full, so
# larger ones are refused; this keeps any image within 300 MB and 2 s (a 16 MP RGBA PNG: 166 MB, 0.4 s).
MAX_DECODED_PIXELS = 16_000_000
RESAMPLE = Image.Resampling.LANCZOS  # anti-aliased resize to the 20x20 box

ImageLike = npt.ArrayLike | Image.Image

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as Pillow's RGB -> L


def to_mnist(image: ImageLike) -> np.ndarray:
    """Turn a picture of one digit into an MNIST input vector.

    image: a greyscale array (H, W), uint8 0-255 or float in [0, 1]; an RGB or RGBA array
        (H, W, 3|4) of uint8 or float; or a PIL image of any common mode. Either polarity.
    Returns float32 of shape (784,), values in [0, 1], ink = 1, the 28x28 image row by row;
    784 zeros if the image holds no ink. Raises ShapeError for an array that is not an image.
    """
    ink = _ink(_grey(image))
    if ink is None:
        return np.zeros(SIDE * SIDE, dtype=np.float32)
    return _centre_by_mass(_fit_box(_crop(ink))).reshape(-1)


def is_blank(image: ImageLike) -> bool:
    """True if the image holds no ink (a blank canvas): to_mnist would return 784 zeros."""
    return _ink(_grey(image)) is None


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file (PNG, JPEG, anything Pillow reads) and return ``to_mnist`` of it, (784,).

    Raises DataError, naming the file, if it is missing, not an image, truncated or corrupt,
    empty, or larger than MAX_PIXELS.
    """
    name = os.fspath(path)
    file = open_regular(name, "image file", DataError)
    if os.fstat(file.fileno()).st_size == 0:
        file.close()
        raise DataError(f"image file {name!r} is empty (0 bytes); save the image again")
    try:
        with file, warnings.catch_warnings():
            # Pillow only warns between its own two limits; make that a refusal as well.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise DataError(_too_large(name, width, height, MAX_PIXELS))
                if width == 0 or height == 0:
                    raise DataError(f"image file {name!r} has no pixels ({width}x{height}); save it again")
                img.draft(None, (1024, 1024))  # a big JPEG decodes at 1/2..1/8 scale: faster, ample
                if img.size[0] * img.size[1] > MAX_DECODED_PIXELS:  # what must be decoded whole
                    raise DataError(_too_large(name, width, height, MAX_DECODED_PIXELS))
                img.load()
                factor = max(1, max(img.size) // 1024)
                if factor > 1 and img.mode not in ("P", "1"):
                    img = img.reduce(factor)  # box-average down to about 1024 a side before any float copy
                upright = ImageOps.exif_transpose(img)  # phone photos store their rotation in EXIF
    except DataError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DataError(
            f"image file {name!r} is too large to open safely ({e}); scale it down below {MAX_PIXELS:,} pixels"
        ) from e
    except Image.UnidentifiedImageError as e:
        raise DataError(f"{name!r} is not an image Pillow can read; give a PNG or JPEG file") from e
    except PermissionError as e:
        raise DataError(f"image file {name!r} cannot be read: permission denied") from e
    except Exception as e:
        # Pillow's decoders report a malformed file with many types (OSError, SyntaxError,
        # ValueError, EOFError, struct.error, ...); to the user they all mean the same thing.
        raise DataError(
            f"image file {name!r} is truncated or corrupt ({type(e).__name__}: {e}); "
            "open it in an image viewer and save it again"
        ) from e
    try:
        return to_mnist(upright)
    except DigitNetError as e:
        raise DataError(f"image file {name!r}: {e}") from e


def _too_large(name: str, width: int, height: int, most: int) -> str:
    return (
        f"image file {name!r} is {width}x{height} = {width * height:,} pixels, more than the "
        f"{most:,} digitnet decodes (JPEG: {MAX_PIXELS:,}); scale it down (a digit needs only a few hundred "
        "pixels a side)"
    )


def _grey(image: ImageLike) -> np.ndarray:
    """Any accepted image -> float32 (H, W) in [0, 1], 1 = white, transparency composited away."""
    a = _pil_array(image) if isinstance(image, Image.Image) else np.asarray(image)
    if a.ndim == 3 and a.shape[2] in (1, 2, 3, 4):
        channels = a.shape[2]
    elif a.ndim == 2:
        channels = 1
    else:
        raise ShapeError(
            f"an image must be a 2-D greyscale array (H, W) or an array (H, W, 3) of RGB "
            f"or (H, W, 4) of RGBA; got shape {a.shape}"
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ShapeError(f"the image has no pixels (shape {a.shape}); draw or load a digit first")
    if a.dtype == np.uint8 and channels in (3, 4):
        a = _pil_array(Image.fromarray(a))  # Pillow's C conversion is several times faster
        channels = a.shape[2] if a.ndim == 3 else 1
    a = _unit_range(a)
    if a.ndim == 3 and channels in (3, 4):
        a = np.concatenate([a[..., :3] @ _LUMA[:, None], a[..., 3:]], axis=2)  # (H, W, 1|2)
    if a.ndim == 2:
        return a
    if a.shape[2] == 1:
        return a[..., 0]
    return _composite(a[..., 0], a[..., 1])


def _pil_array(img: Image.Image) -> np.ndarray:
    """A PIL image as an array: uint8 (H, W) grey or (H, W, 2) grey and alpha; uint16 or float (H, W)."""
    if img.mode.startswith("I;16"):
        return np.asarray(img).astype(np.uint16)
    if img.mode == "I":  # 32-bit integers: 8-bit or 16-bit levels, whichever fits
        a = np.asarray(img)
        return a.astype(np.uint8) if 0 <= a.min() and a.max() <= 255 else np.clip(a, 0, 65535).astype(np.uint16)
    if img.mode == "F":
        return np.asarray(img)
    try:
        if "A" in img.mode or "a" in img.mode or "transparency" in img.info:
            return np.asarray(img.convert("RGBA").convert("LA"))
        return np.asarray(img.convert("L"))
    except ValueError as e:
        raise ShapeError(f"images of mode {img.mode!r} are not supported ({e}); save it as RGB or greyscale") from e


def _unit_range(a: np.ndarray) -> np.ndarray:
    """Grey levels -> float32 in [0, 1]: uint8 / 255, uint16 / 65535, other integers / 255, floats as is."""
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.integer):
        top = 65535 if a.dtype == np.uint16 else 255
        if a.dtype not in (np.uint8, np.uint16) and (a.min() < 0 or a.max() > 255):
            raise ShapeError(
                f"integer pixel values must be grey levels 0-255; got values from {a.min()} "
                f"to {a.max()} (send floats in [0, 1] or uint8)"
            )
        out = a.astype(np.float32)
        out *= np.float32(1.0 / top)  # in place: much faster than a division
        return out
    if np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)):
            raise ShapeError("the image has NaN or infinite pixel values; pixels must be floats in [0, 1]")
        lo, hi = float(a.min()), float(a.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ShapeError(
                f"float pixel values must lie in [0, 1]; got values from {lo:g} to {hi:g} (divide 0-255 levels by 255)"
            )
        return np.clip(a, 0.0, 1.0).astype(np.float32, copy=False)
    raise ShapeError(f"pixels must be numbers (uint8 0-255 or float in [0, 1]); got dtype {a.dtype}")


def _frame(a: np.ndarray) -> np.ndarray:
    """The outer 1-pixel frame of a 2-D array, as one vector."""
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def _composite(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Paint transparent pixels in the background colour: grey * alpha + background * (1 - alpha).

    A canvas export is see-through around strokes of one colour: there the background is the
    opposite of the strokes' colour (white under dark strokes, black under light ones). If the
    frame is opaque, its own colour is the background.
    """
    if alpha.min() >= 1.0:
        return grey
    frame_alpha = _frame(alpha)
    if np.median(frame_alpha) < 0.5:
        weight = float(alpha.sum())
        stroke = float((alpha * grey).sum()) / weight if weight > 0 else 0.0
        background = 1.0 if stroke < 0.5 else 0.0
    else:
        background = float(np.median(_frame(grey)[frame_alpha >= 0.5]))
    return grey * alpha + background * (1.0 - alpha)


def _ink(grey: np.ndarray) -> np.ndarray | None:
    """Greyscale (H, W), 1 = white -> ink (H, W) in [0, 1], strongest stroke 1; None if blank.

    The background level is the median of the frame; ink is the distance from it on the side
    away from it, so the same digit gives the same ink in either polarity.
    """
    background = float(np.median(_frame(grey)))
    ink = background - grey if background > 0.5 else grey - background  # (H, W)
    np.maximum(ink, 0.0, out=ink)  # the far side of the background is not ink
    contrast = float(ink.max())
    if contrast < BLANK_CONTRAST:
        return None
    ink *= np.float32(1.0 / contrast)
    return ink


def _crop(ink: np.ndarray) -> np.ndarray:
    """The bounding box (h, w) of the pixels above INK_THRESHOLD."""
    strong = ink > INK_THRESHOLD
    rows = np.flatnonzero(strong.any(axis=1))
    cols = np.flatnonzero(strong.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit_box(crop: np.ndarray) -> np.ndarray:
    """Resize (h, w) -> (nh, nw) with max(nh, nw) = BOX, aspect kept, strongest stroke back at 1."""
    h, w = crop.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, int(h * scale + 0.5)), max(1, int(w * scale + 0.5))
    if (nh, nw) == (h, w):
        return crop
    small = np.asarray(Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32)).resize((nw, nh), RESAMPLE))
    small = np.clip(small, 0.0, 1.0)  # Lanczos overshoots a little at sharp edges
    top = float(small.max())
    # A stroke thinner than a pixel of the 20x20 box comes out faint; MNIST's strokes reach 1.
    return small / top if top > 0 else small


def _centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste (nh, nw) into SIDE x SIDE, shifted by whole pixels so its centre of mass rounds to CENTRE."""
    nh, nw = digit.shape
    mass = float(digit.sum())
    cy = float(digit.sum(axis=1) @ np.arange(nh)) / mass
    cx = float(digit.sum(axis=0) @ np.arange(nw)) / mass
    # A very lopsided digit may not reach CENTRE inside the field; keeping all its ink comes first.
    top = int(np.clip(np.floor(CENTRE - cy + 0.5), 0, SIDE - nh))
    left = int(np.clip(np.floor(CENTRE - cx + 0.5), 0, SIDE - nw))
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    out[top : top + nh, left : left + nw] = digit
    return out
