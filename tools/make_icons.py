# SPDX-License-Identifier: GPL-3.0-or-later
"""Draws the application icon: ``resources/icons/nap-desktop.png`` (256 px) and ``nap-desktop.ico``
(16–256 px, for the Windows executables). Run once after changing the drawing:

    .venv/bin/python tools/make_icons.py

A plain, high-contrast mark that stays legible at 16 px: a white data store (three stacked discs)
on a dark green rounded square.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"
GREEN = (11, 83, 69, 255)
WHITE = (255, 255, 255, 255)
SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw(size: int) -> Image.Image:
    """The icon at ``size`` pixels, drawn 4× larger and scaled down for smooth edges."""
    s = size * 4
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=GREEN)
    left, right = s * 0.24, s * 0.76
    disc_h = s * 0.16
    gap = s * 0.06
    top = s * 0.17
    body = (s - 2 * top - disc_h) / 3
    for i in range(3):
        y0 = top + i * (body + gap / 3)
        # one disc: a band with rounded top and bottom
        d.rounded_rectangle((left, y0, right, y0 + body + disc_h / 2), radius=disc_h / 2, fill=WHITE)
        d.ellipse((left + s * 0.04, y0 + disc_h * 0.18, right - s * 0.04, y0 + disc_h * 0.62), fill=GREEN)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw(256)
    big.save(OUT / "nap-desktop.png", optimize=True)
    big.save(OUT / "nap-desktop.ico", sizes=[(n, n) for n in SIZES])
    print(f"wrote {OUT / 'nap-desktop.png'} and {OUT / 'nap-desktop.ico'}")


if __name__ == "__main__":
    main()
