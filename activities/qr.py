from __future__ import annotations

import segno


def qr_svg(text: str, *, scale: int = 5) -> str:
    """An inline SVG QR code (no image files, no outside service)."""
    return segno.make(text, error="m").svg_inline(scale=scale, dark="#1f2937")
