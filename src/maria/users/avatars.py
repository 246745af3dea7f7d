"""Uploaded avatars: checked, and remade from their pixels alone.

An upload is accepted only if Pillow recognises it as PNG, JPEG or WebP from its bytes (a
renamed text file is not), it is a single still frame, its declared size is within
``MAX_PIXELS`` (checked before a pixel is decoded, so a decompression bomb costs nothing)
and it decodes completely (a truncated file fails). The result is a new 256×256 WebP
cropped from the centre: no EXIF, GPS, ICC profile or any other metadata of the original
survives. Decoding runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from maria.errors import ApiError, ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # e.g. 8000 × 5000: more than any phone takes, far below a bomb
SIZE = 256
FORMATS = frozenset({"PNG", "JPEG", "WEBP"})


@dataclass(frozen=True, slots=True)
class Processed:
    data: bytes  # WebP
    digest: str  # names the file in its URL


def refusal(message: str) -> ApiError:
    return ValidationFailed(
        message, details=[{"loc": ["body", "file"], "msg": message, "type": "image"}]
    )


def process(upload: bytes) -> Processed:
    """The re-encoded avatar, or ``ValidationFailed`` (422) saying why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload), formats=sorted(FORMATS))
            if image.format not in FORMATS:
                raise refusal("The file must be a PNG, JPEG or WebP image")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise refusal("The image is too large (at most 40 megapixels)")
            if getattr(image, "n_frames", 1) > 1:
                raise refusal("Animated images are not accepted")
            image.load()  # decodes everything: a truncated file fails here
    except ApiError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refusal("The file must be a PNG, JPEG or WebP image") from None
    except (OSError, ValueError, SyntaxError):
        raise refusal("The image could not be decoded (damaged or truncated?)") from None
    upright = ImageOps.exif_transpose(image)  # honour the camera's rotation, then drop EXIF
    mode = upright.mode
    has_alpha = mode in ("RGBA", "LA") or (mode == "P" and "transparency" in upright.info)
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    square = ImageOps.fit(pixels, (SIZE, SIZE), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="WEBP", quality=82, method=4)  # a new file: no metadata carried
    data = out.getvalue()
    return Processed(data, hashlib.sha256(data).hexdigest()[:32])


async def process_off_loop(upload: bytes) -> Processed:
    return await asyncio.to_thread(process, upload)
