"""Issue 14, reliability items 1-17: one regression test (or more) per item.

The hostile-input corpus (``test_hostile_corpus.py``) runs the same hostile files through
the CLI in subprocesses under a 1 GB address-space limit; the tests here check the pieces
in process, where that is safe (a 3 GB sparse file or a FIFO is only ever read through
the corpus, so a regression there fails with a timeout, not a hung or swapping test run).
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from icbmap import atomic
from icbmap.atlas import store
from icbmap.errors import DataError
from icbmap.plan.model import Board, Plan, PlanError
from icbmap.plan.proposal import Proposal, ProposalError, load_proposal, read_proposal, write_proposal

ROOT = Path(__file__).resolve().parent.parent
FORMULA = "=cmd|' /C calc'!A0"


def _good_doc(atlas, tmp_path) -> dict:
    path = write_proposal(tmp_path / "good.icbmap.json", Proposal.new(Plan(atlas), title="good"))
    return json.loads(path.read_text())


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---------------------------------------------------------------- 1, 2: hostile JSON
@pytest.mark.slow
def test_1_deep_nesting_is_a_clear_error_not_a_recursion_traceback(england, tmp_path):
    path = tmp_path / "deep.icbmap.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    for read in (load_proposal, read_proposal):
        with pytest.raises(ProposalError, match="nested too deeply") as info:
            read(path, england)
        assert str(path) in str(info.value)


@pytest.mark.slow
def test_2_a_5000_digit_number_is_a_clear_error_in_the_cli_and_in_file_open(england, tmp_path):
    doc = _good_doc(england, tmp_path)
    text = json.dumps(doc).replace('"format": ', '"big": ' + "7" * 5000 + ', "format": ', 1)
    path = tmp_path / "big.icbmap.json"
    path.write_text(text)
    with pytest.raises(ProposalError, match=r"4300 digits"):
        load_proposal(path, england)             # metrics / export / print
    with pytest.raises(ProposalError, match=r"4300 digits"):
        read_proposal(path, england)             # what the app's File > Open calls


# ---------------------------------------------------------------- 3, 4, 5: guarded open
def test_3_5_guarded_open_refuses_fifo_device_folder_and_size_without_blocking(tmp_path):
    from icbmap.safeio import open_input, read_input

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(DataError, match=r"pipe\.csv: is a FIFO"):
        open_input(fifo, "CSV file")             # would block for ever with a plain open()
    assert time.monotonic() - start < 5
    rnd = tmp_path / "random.csv"
    rnd.symlink_to("/dev/urandom")
    with pytest.raises(DataError, match="is a character device"):
        read_input(rnd, "CSV file", 1 << 20)
    with pytest.raises(DataError, match="is a folder"):
        read_input(tmp_path, "CSV file")
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(3 << 30)
    with pytest.raises(DataError, match=r"is 3\.0 GB, too large for a CSV file \(limit 1\.0 MB\)"):
        read_input(big, "CSV file", 1 << 20)


def test_3_4_data_import_files_are_checked_before_reading(tmp_path):
    from icbmap.atlas import official_tables as official

    fifo = tmp_path / "lookup.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"lookup\.csv: LSOA lookup: is a FIFO"):
        official.read_table(fifo, "LSOA lookup")
    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as fh:
        fh.write(b"LSOA21CD,ICB24CD\n")
        fh.truncate(official.MAX_TABLE_BYTES + 1)
    with pytest.raises(DataError, match=r"sparse\.csv: LSOA lookup: is 256\.0 MB, too large"):
        official.read_table(sparse, "LSOA lookup")


def test_4_header_search_reads_bounded_lines(tmp_path):
    """A header line followed by a long run of NULs (no newline) is not read whole."""
    from icbmap.atlas import official_tables as official

    path = tmp_path / "nul.csv"
    with open(path, "wb") as fh:
        fh.write(b"title line\n")
        fh.truncate(64 * official.HEADER_LINE_CHARS)
    import tracemalloc

    tracemalloc.start()
    official._header_row(path, "utf-8", {"lsoa21cd"}, [])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * official.HEADER_LINE_CHARS  # one bounded look at the head, not the 8 MB of NULs


def test_5_practice_zip_member_is_limited(tmp_path, monkeypatch):
    import zipfile

    from icbmap.practices import readers

    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1 << 20)
    path = tmp_path / "gp.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("gp-reg-pat-prac-all.csv", b"PRACTICE_CODE,POSTCODE,NUMBER_OF_PATIENTS\n" + b"0" * (2 << 20))
    assert path.stat().st_size < 50_000
    with pytest.raises(DataError, match=r"expands to 2\.0 MB, more than the 1\.0 MB limit"):
        readers.read_practice_totals(path)


# ---------------------------------------------------------------- 6: many boards
@pytest.mark.slow
def test_6_board_count_is_bounded(england, tmp_path):
    from icbmap.plan.model import MAX_BOARDS

    doc = _good_doc(england, tmp_path)
    first = doc["plan"]["boards"][0]
    doc["plan"]["boards"] = [{**first, "id": i, "code": f"X{i}"} for i in range(150_000)]
    path = tmp_path / "many.icbmap.json"
    path.write_text(json.dumps(doc))
    assert path.stat().st_size < 32 << 20  # under the proposal size limit
    with pytest.raises(ProposalError, match=f"150,000 boards, more than the {MAX_BOARDS:,}"):
        load_proposal(path, england)


class _CountingTable(np.ndarray):
    """A board x area table that counts how often it is summed whole."""

    whole_sums = 0

    def sum(self, *args, **kwargs):
        if self.ndim == 2:
            _CountingTable.whole_sums += 1
        return np.asarray(self).sum(*args, **kwargs)


@pytest.mark.slow
def test_6_metrics_report_sums_each_table_once_whatever_the_boards(england):
    """The report's work on the board x area tables does not grow per board: each table is
    summed whole a fixed number of times (it was once per board: quadratic in boards).
    Counted, not timed, so a loaded machine cannot make it flaky; the timing is in
    tests/bench/test_bench_boards.py."""
    from dataclasses import replace

    from icbmap.metrics.engine import Metrics
    from icbmap.metrics.report import build_report

    def whole_sums(n):
        p = Plan(england)
        base = p.n_boards
        for k in range(n - base):
            p.boards.append(Board(base + k, f"N{k}", f"New {k}", "#336699"))
        idx = np.arange(p.n_units)
        p.assignment[:] = (idx * n // p.n_units).astype(np.int32)
        m = Metrics(p, observe=False)
        v = m.values_view()
        levels = {k: replace(L, cnt=L.cnt.view(_CountingTable)) for k, L in v.levels.items()}
        _CountingTable.whole_sums = 0
        report = build_report(p, replace(v, levels=levels), m.band)
        assert len(report.boards) == n
        return _CountingTable.whole_sums

    few, many = whole_sums(60), whole_sums(400)
    assert few == many, (few, many)   # before: grew by 3 per board


# ---------------------------------------------------------------- 7: CSV formula injection
def test_7_csv_cell_neutralises_formulas_and_keeps_numbers():
    from icbmap.csvsafe import csv_cell, unneutralise

    for text in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", FORMULA):
        assert csv_cell(text) == "'" + text
        assert unneutralise(csv_cell(text)) == text
    for value in ("Sussex", "-0.25", "+3", "1e-5", 42, -7, "'quoted", ""):
        assert csv_cell(value) == value


@pytest.mark.slow
def test_7_csv_exports_neutralise_and_import_warns_and_round_trips(england, tmp_path):
    from icbmap.export.csv import assignment_csv_text
    from icbmap.export.importers import import_file
    from icbmap.cli.metrics import format_csv
    from icbmap.metrics.engine import Metrics

    plan = Plan(england)
    plan.update_board(0, name=FORMULA)
    rows = list(csv.reader(io.StringIO(assignment_csv_text(plan))))
    names = {r[2] for r in rows[1:] if r[1] == plan.boards[0].code}
    assert names == {"'" + FORMULA}
    assert "'" + FORMULA in format_csv(Metrics(plan, observe=False).report())
    from icbmap.export.csv import boards_csv_text

    board_rows = list(csv.reader(io.StringIO(boards_csv_text(plan))))
    assert any("'" + FORMULA in row for row in board_rows[1:])
    assert not any(cell.startswith(("=", "+", "@")) for row in board_rows for cell in row)
    assert not any(cell.startswith(("=", "+", "@")) for r in csv.reader(io.StringIO(
        format_csv(Metrics(plan, observe=False).report()))) for cell in r)
    path = tmp_path / "assign.csv"
    path.write_text(assignment_csv_text(plan))
    result = import_file(path, england)
    assert result.plan.boards[0].name == FORMULA          # the ' is taken off again
    assert any("spreadsheets run as formulas" in w for w in result.report.warnings)


# ---------------------------------------------------------------- 8: special output files
def test_8_symlink_target_is_replaced_and_the_link_kept(tmp_path):
    target = tmp_path / "real" / "out.csv"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    atomic.atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_8_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    atomic.atomic_write_text(fifo, "through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_8_folder_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError):
        atomic.atomic_write_text(tmp_path, "x")
    with pytest.raises(IsADirectoryError):
        with atomic.atomic_file(tmp_path, ".gpkg"):
            pass


def test_8_character_device_is_written_through_and_kept(tmp_path):
    """A private copy of /dev/full (same device numbers), so the real one is never at risk."""
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc}); the corpus checks /dev/full itself")
    with pytest.raises(OSError) as info:
        atomic.atomic_write_text(full, "metrics")
    assert "No space left" in str(info.value)
    assert stat.S_ISCHR(os.lstat(full).st_mode)          # still the device, not a regular file
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    atomic.atomic_write_text(null, "gone")
    assert stat.S_ISCHR(os.lstat(null).st_mode)


# ---------------------------------------------------------------- 9: GDAL write errors
def test_9_gdal_write_error_becomes_a_message_naming_the_file(tmp_path):
    from pyogrio.errors import FeatureError

    from icbmap.safeio import gdal_write_errors

    with pytest.raises(DataError, match=r"out\.gpkg: could not write: No space left on device"):
        with gdal_write_errors(tmp_path / "out.gpkg"):
            raise FeatureError("failed to write feature 12 to boards: sqlite3_step() failed: "
                               "database or disk is full")


# ---------------------------------------------------------------- 10: '#' and '?' in paths
def test_10_read_meta_quotes_the_path(tmp_path):
    import pandas as pd
    import pyogrio

    folder = tmp_path / "data #1 ?x %41"
    folder.mkdir()
    path = folder / "pack.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"key": ["a"], "value": [json.dumps(1)]}), path,
                            layer="meta", driver="GPKG")
    assert store.read_meta(path) == {"a": 1}


# ---------------------------------------------------------------- 11: discard what was offered
@pytest.mark.gui
@pytest.mark.slow
def test_11_discard_deletes_only_the_offered_autosave(qtbot, england, tmp_path):
    from PySide6.QtCore import QSettings

    from icbmap.app.mainwindow import MainWindow

    folder = tmp_path / "autosave"
    folder.mkdir()
    dead = _dead_pid()
    for k, session in enumerate(("older", "newer")):
        write_proposal(folder / f"{session}.icbmap.json", Proposal.new(Plan(england), title=session))
        saved = f"2026-01-0{k + 1}T00:00:00Z"
        (folder / f"{session}.session.json").write_text(json.dumps(
            {"pid": dead, "host": socket.gethostname(), "last_autosave": saved, "title": session}))
    w = MainWindow(england, settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                   autosave_dir=folder)
    qtbot.addWidget(w)
    offered = []
    w.options.offer_recovery(choose=lambda group: offered.extend(r.title for r in group) or "discard")
    assert offered == ["newer"]
    assert not (folder / "newer.icbmap.json").exists()
    assert (folder / "older.icbmap.json").exists() and (folder / "older.session.json").exists()


# ---------------------------------------------------------------- 12: concurrent settings
def test_12_concurrent_recent_file_updates_are_all_kept(tmp_path):
    home = tmp_path / "home"
    go = tmp_path / "go"
    script = (
        "import sys, time, pathlib\n"
        "from icbmap.plan.proposal import add_recent_proposal\n"
        "go = pathlib.Path(sys.argv[1])\n"
        "while not go.exists(): time.sleep(0.001)\n"
        "add_recent_proposal(sys.argv[2])\n")
    env = dict(os.environ, ICBMAP_HOME=str(home))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(go), str(tmp_path / f"p{i}.icbmap.json")],
                              env=env, cwd=ROOT) for i in range(8)]
    time.sleep(2.0)  # every process imported and waiting
    go.touch()
    assert all(p.wait(60) == 0 for p in procs)
    settings = json.loads((home / "config" / "settings.json").read_text())
    assert sorted(Path(p).name for p in settings["recent_proposals"]) == [f"p{i}.icbmap.json" for i in range(8)]


# ---------------------------------------------------------------- 13: pack names
@pytest.mark.parametrize("name", ["ons-2021\n", "ons-2021\r", "", "../x", "a" * 65])
def test_13_pack_name_is_matched_whole(name):
    with pytest.raises(DataError, match="invalid pack name"):
        store.pack_path(name)


def test_13_good_pack_names_pass():
    assert store.pack_path("ons-2021").name == "ons-2021.gpkg"


# ---------------------------------------------------------------- 14: briefing layout
@pytest.mark.slow
def test_14_long_titles_and_names_stay_in_their_places(england):
    from icbmap.export.briefing import X_POP, briefing_figures
    from icbmap.export.drawing import ELLIPSIS

    plan = Plan(england)
    plan.boards[3].name = "Wide " * 4000                   # 20,000 characters
    fig = briefing_figures(plan, title="T" * 5000, subtitle="S" * 3000)[0]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    width = fig.bbox.width
    from matplotlib.text import Text

    texts = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    for t in texts:                                        # nothing runs off the page
        bb = t.get_window_extent(r)
        assert bb.x0 >= -1 and bb.x1 <= width + 1, t.get_text()[:60]
    title = next(t for t in texts if t.get_text().startswith("TTT"))
    date = next(t for t in texts if t.get_text().endswith(str(time.localtime().tm_year)))
    assert title.get_text().endswith(ELLIPSIS)
    assert title.get_window_extent(r).x1 < date.get_window_extent(r).x0
    # in the table the name wraps onto two lines (issue 22) and the second is cut before the population
    name = next(t for t in texts if t.get_text().startswith("Wide Wide") and t.get_position()[0] == 0.065)
    assert name.get_text().count("\n") == 1 and name.get_text().endswith(ELLIPSIS)
    row_y = name.get_position()[1]
    pop = next(t for t in texts if t.get_position() == (X_POP, row_y))
    assert name.get_window_extent(r).x1 < pop.get_window_extent(r).x0
    labels = [t for t in texts if t.get_text().startswith("Wide Wide") and t.get_position()[0] != 0.065]
    assert all(t.get_text().count("\n") <= 3 for t in labels)  # map label: 3 lines + population
    assert any("cut to fit" in t.get_text() for t in texts)     # the footnote says so


def test_14_one_line_flattens_and_caps():
    from icbmap.export.drawing import ELLIPSIS, one_line

    assert one_line("Kent\nand\tMedway") == "Kent and Medway"
    assert one_line("x" * 1000, 50) == "x" * 49 + ELLIPSIS


# ---------------------------------------------------------------- 15, 16: names and colours
@pytest.mark.slow
@pytest.mark.parametrize("field, value, message", [
    ("name", "Sus\x00sex", r"control character \(U\+0000\)"),
    ("name", "Kent\nMedway", r"control character \(U\+000A\)"),
    ("code", "E54\x00", r"control character"),
    ("colour", "#zzzzzz", r"'#zzzzzz' is not a #rrggbb colour"),
    ("colour", "#12345", r"is not a #rrggbb colour"),
])
def test_15_16_names_and_colours_are_validated_on_open(england, tmp_path, field, value, message):
    doc = _good_doc(england, tmp_path)
    doc["plan"]["boards"][0][field] = value
    path = tmp_path / "bad.icbmap.json"
    path.write_text(json.dumps(doc))
    for read in (load_proposal, read_proposal):
        with pytest.raises(ProposalError, match=message):
            read(path, england)
    with pytest.raises(DataError, match=message):        # a bare plan file too
        Plan.from_dict(england, doc["plan"])


@pytest.mark.slow
def test_15_16_edits_refuse_control_characters_and_bad_colours(england):
    plan = Plan(england)
    with pytest.raises(PlanError, match="control character"):
        plan.update_board(0, name="A\x00B")
    with pytest.raises(PlanError, match="not a #rrggbb colour"):
        plan.update_board(0, colour="#zzzzzz")
    plan.update_board(0, name="Fine name", colour="#A1b2C3")
    from icbmap.plan.commands import CreateBoard, RecolourBoard, RenameBoard

    with pytest.raises(PlanError, match="not a #rrggbb colour"):
        RecolourBoard(0, "#zzzzzz")              # was a ValueError from int("zzzzzz", 16)
    with pytest.raises(PlanError, match="control character"):
        RenameBoard(0, "Kent\x00").do(plan)
    with pytest.raises(PlanError, match="control character"):
        CreateBoard("New\nboard").do(plan)


@pytest.mark.slow
def test_15_import_refuses_control_characters_in_names(england, tmp_path):
    from icbmap.export.import_common import ImportError_
    from icbmap.export.importers import import_file

    path = tmp_path / "nul.csv"
    path.write_text("lsoa_code,board_code,board_name\nE01000001,X1,Ring\x07ring\n")
    with pytest.raises(ImportError_, match=r"nul\.csv: .*control character \(U\+0007\)"):
        import_file(path, england)


# ---------------------------------------------------------------- 17: stale temporary files
def test_17_stale_temporary_files_are_swept(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    old = time.time() - 2 * 24 * 3600
    stale = tmp_path / f".out.csv.{dead}~abc12345.tmp"
    stale_gpkg = tmp_path / f".out.{dead}~xyz98765.gpkg-journal"
    young = tmp_path / f".out.csv.{dead}~young123.tmp"
    live = tmp_path / f".out.csv.{alive}~live1234.tmp"
    other = tmp_path / ".profile.tmp"
    for p in (stale, stale_gpkg, young, live, other):
        p.write_text("x")
    for p in (stale, stale_gpkg, live, other):
        os.utime(p, (old, old))
    atomic.atomic_write_text(tmp_path / "out.csv", "new")   # a write sweeps its own leftovers
    assert not stale.exists()
    assert young.exists() and live.exists() and other.exists()
    removed = atomic.sweep_stale_temps(tmp_path)
    assert removed == [stale_gpkg] and not stale_gpkg.exists()


def test_17_swept_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("ICBMAP_HOME", str(tmp_path / "home"))
    from icbmap.paths import cache_dir

    dead = _dead_pid()
    stale = cache_dir() / f".england-offline-x.{dead}~abc12345.gpkg"
    stale.write_text("x")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    from icbmap.cli import main

    main(["data", "list"])
    assert not stale.exists()
