from __future__ import annotations

import segno


def qr_svg(text: str, *, scale: int = 5) -> str:
    """An inline SVG QR code (no image files, no outside service)."""
    # A full QR code: phone scanners and BarcodeDetector do not read Micro QR.
    return segno.make_qr(text, error="m").svg_inline(scale=scale, dark="#1f2937")
