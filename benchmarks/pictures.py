"""Pictures for looking at benchmark outputs: images side by side at one height."""

from pathlib import Path
from typing import Sequence, Union

from PIL import Image


def side_by_side(images: Sequence[Union[Path, Image.Image]], out: Path, height: int = 512) -> Path:
    """``images`` (paths or PIL images), each scaled to ``height`` px high (Lanczos), left to right in one JPEG."""
    tiles = [im if isinstance(im, Image.Image) else Image.open(im) for im in images]
    tiles = [t.convert("RGB").resize((round(t.width * height / t.height), height), Image.LANCZOS) for t in tiles]
    sheet = Image.new("RGB", (sum(t.width for t in tiles), height), "white")
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width
    sheet.save(out, quality=90)
    return out
