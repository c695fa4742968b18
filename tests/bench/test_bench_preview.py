"""Benchmark: the print preview's first page (issue 22, item 2).

From File > Print preview to page 1 painted in the preview: the plan copied for the worker,
the briefing's metrics and map page drawn (matplotlib, at the preview's 120 dpi) with the
window's rule set, and the image painted on the preview's printer.  Target on this 2-core
machine: at most 1.5 s.  Run with figures:

    python -m pytest tests/bench/test_bench_preview.py --benchmark-enable
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import main_window

pytestmark = [pytest.mark.slow, pytest.mark.gui]


class _FirstPage(Exception):
    pass


def test_bench_preview_first_page(benchmark, qtbot, england, tmp_path):
    from PySide6.QtPrintSupport import QPrintPreviewWidget

    from icbmap.app.files.preview import PreviewPages
    from icbmap.app.files.printing import briefing_images
    from icbmap.app.workers import snapshot

    w = main_window(qtbot, england, tmp_path)
    w.controller.move_units(np.arange(100, 400), 3)  # a proposal, not the baseline
    exports = w.proposals
    printer = exports.make_printer()
    kwargs = exports._briefing_kwargs()
    assert kwargs["rules"] is not None  # the principles pages follow (every reason in full: one or more)

    def first_page():
        plan = snapshot(w.controller.plan)
        got = []

        def on_page(number, pages, image):
            got.append((number, pages, image))
            raise _FirstPage  # the preview opens now; the other pages follow in the worker

        with pytest.raises(_FirstPage):
            briefing_images(plan, exports._paper(printer), None, on_page, **kwargs)
        pages = PreviewPages.__new__(PreviewPages)
        PreviewPages.__init__(pages, lambda progress, on: None)
        pages.cancel()
        pages._on_page(*got[0])
        preview = QPrintPreviewWidget(printer)
        preview.paintRequested.connect(pages.paint)
        preview.updatePreview()
        return got[0][:2], preview.pageCount()

    (number, total), painted = benchmark.pedantic(first_page, rounds=3, iterations=1, warmup_rounds=1)
    assert number == 1 and total >= 2 and painted == total  # page 1, then "Preparing page N" pages
    if benchmark.stats is not None and benchmark.stats.stats.mean:
        assert benchmark.stats.stats.mean <= 1.5
