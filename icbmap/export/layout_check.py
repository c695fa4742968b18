"""Checks of a drawn page: which texts overlap each other or cross a map frame.  Qt-free.

Every text artist of a matplotlib figure (figure texts, axes texts and titles, legend
texts) is measured by the renderer (:meth:`~matplotlib.text.Text.get_window_extent`, the
glyphs' box; a label's white box where it has one) and compared pair by pair; a text that
straddles the edge of a map's axes (the map frame) is reported too.  Used by the tests of
the briefings and available to anyone checking a page.
"""

from __future__ import annotations

from matplotlib.text import Text


def page_texts(fig) -> list[tuple[str, object, object]]:
    """``(text, display box, artist)`` of every visible, non-empty text on ``fig``."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or t.get_alpha() == 0:
            continue
        bb = t.get_window_extent(renderer)
        if bb.width <= 0 or bb.height <= 0:
            continue
        out.append((t.get_text(), bb, t))
    return out


def _hit(a, b, pad: float) -> bool:
    return not (a.x1 - pad <= b.x0 or a.x0 + pad >= b.x1 or a.y1 - pad <= b.y0 or a.y0 + pad >= b.y1)


def text_overlaps(fig, pad: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes overlap by more than ``pad`` display pixels."""
    texts = page_texts(fig)
    out = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if _hit(texts[i][1], texts[j][1], pad):
                out.append((texts[i][0], texts[j][0]))
    return out


def frame_crossings(fig, map_axes, pad: float = 0.5) -> list[str]:
    """Texts that straddle the frame of one of ``map_axes`` (part inside, part outside)."""
    renderer = fig.canvas.get_renderer()
    out = []
    frames = [ax.get_window_extent(renderer) for ax in map_axes]
    for text, bb, _t in page_texts(fig):
        for f in frames:
            if not _hit(bb, f, pad):
                continue
            inside = bb.x0 >= f.x0 - pad and bb.x1 <= f.x1 + pad and bb.y0 >= f.y0 - pad and bb.y1 <= f.y1 + pad
            if not inside:
                out.append(text)
    return out
