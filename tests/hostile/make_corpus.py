"""The hostile-input corpus (issue 14): generated files, never committed binaries.

``cases()`` lists every case: which CLI entry reads the hostile file, how the file is made,
and what must happen.  ``Case.make(folder)`` writes the case's files into ``folder`` and
returns the command line.  ``tests/test_hostile_corpus.py`` runs each case in a subprocess
under ``RLIMIT_AS`` = 1 GB and a 60 s timeout.

Run it by hand to look at the files::

    python tests/hostile/make_corpus.py /tmp/corpus        # makes every case's files

Sparse files (1-3 GB declared, no data blocks) cost no disk space; the ZIP bomb is a real
deflated 300 MB member (about 0.3 MB on disk, about a second to make).
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PACK = ["--pack", "england-offline"]
GB = 1 << 30
MB = 1 << 20


# ------------------------------------------------------------------ file makers
def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)  # declared size; the rest is a hole of NULs
    return path


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def link(path: Path, target: str) -> Path:
    os.symlink(target, path)
    return path


def write(path: Path, data: bytes | str | dict | list) -> Path:
    if isinstance(data, (dict, list)):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def zip_bomb(path: Path, member: str = "gp-reg-pat-prac-all.csv", size: int = 300 * MB) -> Path:
    """A real ZIP whose one member inflates to ``size`` bytes (a header line, then zeros)."""
    block = b"0" * MB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(member, "w", force_zip64=True) as fh:
            fh.write(b"PRACTICE_CODE,POSTCODE,NUMBER_OF_PATIENTS\n")
            for _ in range(size // MB):
                fh.write(block)
    return path


def declared_zip(path: Path, member: str, declared: int) -> Path:
    """A tiny ZIP whose headers declare a ``declared``-byte member (what a zip bomb
    announces); only the declared sizes are read by the check."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(member, b"x")
    data = bytearray(path.read_bytes())
    # local header: uncompressed size at offset 22; central directory entry: at offset 24
    data[22:26] = (declared & 0xFFFFFFFF).to_bytes(4, "little")
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (declared & 0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def envelope(boards: list[dict] | None = None, **extra) -> dict:
    """A proposal envelope that passes every check made before the data pack is loaded."""
    boards = boards if boards is not None else [board(0)]
    return {"format": "icbmap-proposal", "schema": 1,
            "pack": {"name": "england-offline", "content_hash": "0000000000000000"},
            "title": "hostile", "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
            "plan": {"format": "icbmap-plan", "version": 1, "boards": boards, "units": {}}, **extra}


def board(i: int, name: str = "Board", colour: str = "#336699", code: str | None = None) -> dict:
    return {"id": i, "code": code or f"X{i:06d}", "name": name, "colour": colour, "locked": False,
            "active": True}


def many_boards(n: int) -> dict:
    return envelope([board(i, f"B{i}") for i in range(n)])


def shapefile_with_fifo_dbf(folder: Path) -> Path:
    shp = write(folder / "boards.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96)
    write(folder / "boards.shx", b"\x00\x00\x27\x0a" + b"\x00" * 96)
    fifo(folder / "boards.dbf")
    return shp


# ------------------------------------------------------------------ cases
@dataclass
class Case:
    id: str
    items: tuple[int, ...]         # issue 14 reliability items this case covers (0: general)
    entry: str                     # the CLI entry that reads the file
    build: Callable[[Path], tuple[list[str], Path]]  # folder -> (argv after PACK, the hostile file)
    message: str = ""              # regex the one error line must match
    expect: str = "error"          # "error": exit 1 with one line; otherwise see the test
    output: str | None = "out.csv"  # an earlier output that must survive (None: none)
    home: bool = False             # run with ICBMAP_HOME=<folder>/home (a hostile pack folder)
    issue21: tuple[int, ...] = ()  # issue 21 findings this case covers

    def make(self, folder: Path) -> tuple[list[str], Path]:
        folder.mkdir(parents=True, exist_ok=True)
        return self.build(folder)


def _with(make, argv):
    def build(d):
        p = make(d)
        return argv(p, d), p
    return build


def _proposal_cases() -> list[Case]:
    out: list[Case] = []
    makers = [
        ("deep-nesting", (1,), lambda d: write(d / "deep.icbmap.json", "[" * 100_000 + "]" * 100_000),
         r"nested too deeply"),
        ("huge-number", (2,), lambda d: write(d / "num.icbmap.json",
                                              '{"format": "icbmap-proposal", "schema": ' + "9" * 5000 + "}"),
         r"digits|too large"),
        ("fifo", (3,), lambda d: fifo(d / "pipe.icbmap.json"), r"FIFO"),
        ("dev-urandom", (5,), lambda d: link(d / "random.icbmap.json", "/dev/urandom"), r"character device"),
        ("folder", (0,), lambda d: (d / "dir.icbmap.json").mkdir() or d / "dir.icbmap.json", r"is a folder"),
        ("sparse-1gb", (4,), lambda d: sparse(d / "huge.icbmap.json", GB), r"too large for a proposal"),
        ("150000-boards", (6,), lambda d: write(d / "boards.icbmap.json", many_boards(150_000)),
         r"150,000 boards, more than the 1,000"),
        ("nul-in-name", (15,), lambda d: write(d / "nul.icbmap.json", envelope([board(0, "Sus\x00sex")])),
         r"control character \(U\+0000\)"),
        ("newline-in-name", (14, 15), lambda d: write(d / "nl.icbmap.json", envelope([board(0, "Kent\nMedway")])),
         r"control character \(U\+000A\)"),
        ("colour-zzzzzz", (16,), lambda d: write(d / "col.icbmap.json", envelope([board(0, colour="#zzzzzz")])),
         r"'#zzzzzz' is not a #rrggbb colour"),
    ]
    commands = {
        "metrics": lambda p, d: ["metrics", str(p), "--format", "csv", "-o", str(d / "out.csv")],
        "export": lambda p, d: ["export", str(p), "--format", "csv", "-o", str(d / "out.csv")],
        "print": lambda p, d: ["print", str(p), "-o", str(d / "out.pdf")],
    }
    for name, items, make, message in makers:
        for cmd, argv in commands.items():
            if cmd != "metrics" and name not in ("deep-nesting", "huge-number", "fifo", "nul-in-name",
                                                 "newline-in-name"):
                continue  # one entry is enough for the generic file checks
            out.append(Case(f"{cmd}-{name}", items, cmd, _with(make, argv), message,
                            output="out.pdf" if cmd == "print" else "out.csv"))
    return out


def _import_cases() -> list[Case]:
    def imp(make):
        def build(d):
            p = make(d)
            return ["import", str(p), "-o", str(d / "out.icbmap.json")], p
        return build

    return [
        Case("import-fifo-geojson", (3,), "import", imp(lambda d: fifo(d / "pipe.geojson")), r"FIFO",
             output="out.icbmap.json"),
        Case("import-fifo-csv", (3,), "import", imp(lambda d: fifo(d / "pipe.csv")), r"FIFO",
             output="out.icbmap.json"),
        Case("import-dev-urandom-csv", (5,), "import", imp(lambda d: link(d / "random.csv", "/dev/urandom")),
             r"character device", output="out.icbmap.json"),
        Case("import-sparse-1gb-csv", (4,), "import", imp(lambda d: sparse(d / "huge.csv", GB)),
             r"larger than the 64 MB import limit", output="out.icbmap.json"),
        Case("import-shapefile-fifo-dbf", (3,), "import",
             lambda d: (imp(shapefile_with_fifo_dbf)(d)[0], d / "boards.dbf"), r"is a FIFO",
             output="out.icbmap.json"),
        Case("import-zip-bomb", (5,), "import",
             imp(lambda d: declared_zip(d / "boards.zip", "boards.geojson", 4 * GB - 1)),
             r"(expands|unpacks) to 4", output="out.icbmap.json"),
        Case("import-deep-geojson", (1,), "import",
             imp(lambda d: write(d / "deep.geojson", '{"type": "FeatureCollection", "features": '
                                 + "[" * 100_000 + "]" * 100_000 + "}")),
             r"not a readable|no features|holds no layers", output="out.icbmap.json"),
        Case("import-control-char-name", (15,), "import",
             imp(lambda d: write(d / "bell.csv", "lsoa_code,board_code,board_name\nE01000001,X1,Ring\x07ring\n")),
             r"control character \(U\+0007\)", output="out.icbmap.json"),
        Case("import-formula-names", (7,), "import",
             imp(lambda d: write(d / "formula.csv", "lsoa_code,board_code,board_name\n"
                                 "E01000001,X1,=cmd|' /C calc'!A0\n")),
             expect="formula-warning", output=None),
        # the Excel workbook reader (issue 23)
        Case("import-xlsx-text", (0,), "import .xlsx", imp(lambda d: write(d / "boards.xlsx", "not a workbook\n")),
             r"not a readable Excel workbook", output="out.icbmap.json"),
        Case("import-xlsx-fifo", (3,), "import .xlsx", imp(lambda d: fifo(d / "pipe.xlsx")), r"FIFO",
             output="out.icbmap.json"),
        Case("import-xlsx-zip-bomb", (5,), "import .xlsx",
             imp(lambda d: declared_zip(d / "bomb.xlsx", "xl/workbook.xml", 4 * GB - 1)),
             r"unpacks to more than the 512 MB import limit", output="out.icbmap.json"),
        Case("import-xlsx-no-boards-sheet", (0,), "import .xlsx", imp(lambda d: workbook(d / "other.xlsx", {
            "Sheet1": [["a", "b"], [1, 2]]})), r"no 'boards' sheet \(it has Sheet1\)", output="out.icbmap.json"),
        Case("import-xlsx-newline-name", (14, 15), "import .xlsx", imp(lambda d: workbook(d / "nl.xlsx", {
            "boards": [["code", "name"], ["X1", "Kent\nMedway"]], "moves": [["lsoa_code", "to_board_code"]]})),
             r"control character \(U\+000A\)", output="out.icbmap.json"),
        Case("import-xlsx-incomplete", (0,), "import .xlsx", imp(lambda d: workbook(d / "part.xlsx", {
            "boards": [["code", "name"], ["X1", "One"]], "moves": [["lsoa_code", "to_board_code"]]})),
             r"LSOAs of baseline board\(s\) E54.* are on no board of the 'boards' sheet", output="out.icbmap.json"),
        Case("import-xlsx-billion-laughs", (1, 5), "import .xlsx", imp(lambda d: xml_bomb_workbook(d / "lol.xlsx")),
             r"not a readable Excel workbook", output="out.icbmap.json"),
        Case("import-xlsx-move-to-unknown-board", (0,), "import .xlsx", imp(lambda d: workbook(d / "mv.xlsx", {
            "boards": [["code", "name"], ["X1", "One"]],
            "moves": [["lsoa_code", "to_board_code"], ["E01000001", "=cmd|' /C calc'!A0"]]})),
             r"moves E01000001 to board .*not in the 'boards' sheet", output="out.icbmap.json"),
    ]


def xml_bomb_workbook(path: Path) -> Path:
    """A workbook whose boards sheet is an XML entity bomb ("billion laughs": a few hundred
    bytes that expand to gigabytes)."""
    workbook(path, {"boards": [["code", "name"], ["X1", "One"]], "moves": [["lsoa_code", "to_board_code"]]})
    lol = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10 if i else "lol"}">' for i in range(10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE worksheet [{lol}]><worksheet xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c>'
            '</row></sheetData></worksheet>')
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = bomb.encode() if info.filename == "xl/worksheets/sheet1.xml" else src.read(info.filename)
            dst.writestr(info.filename, data)
    tmp.replace(path)
    return path


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A real .xlsx (made with openpyxl; every text cell a text cell, never a formula)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=v)
                if isinstance(v, str):
                    cell.data_type = "s"
    wb.save(path)
    return path


def _data_import_cases() -> list[Case]:
    def dimp(slot: str, make, name: str = "hostile"):
        def build(d):
            files = {"boundaries": write(d / "b.geojson", "{}"), "icb-lookup": write(d / "icb.csv", "x\n"),
                     "lad-lookup": write(d / "lad.csv", "x\n"), "population": write(d / "pop.csv", "x\n")}
            files[slot].unlink()
            files[slot] = p = make(files[slot])
            argv = ["data", "import", name] + [a for k, v in files.items() for a in (f"--{k}", str(v))]
            return argv, (p if name == "hostile" else None)  # None: the hostile thing is the name
        return build

    return [
        *(Case(f"data-import-fifo-{slot}", (3,), "data import", dimp(slot, fifo), r"FIFO", output=None)
          for slot in ("boundaries", "icb-lookup", "lad-lookup", "population")),
        Case("data-import-sparse-3gb-csv", (4,), "data import",
             dimp("icb-lookup", lambda p: sparse(p, 3 * GB, b"LSOA21CD,SICBL24CD,ICB24CD\n")),
             r"is 3\.0 GB, too large", output=None),
        Case("data-import-nul-csv-under-limit", (4,), "data import",
             dimp("icb-lookup", lambda p: sparse(p, 250 * MB, b"LSOA21CD,SICBL24CD,ICB24CD\n")),
             r"LSOA to sub-ICB location to ICB lookup", output=None),
        Case("data-import-dev-urandom", (5,), "data import", dimp("population", lambda p: link(p, "/dev/urandom")),
             r"character device", output=None),
        Case("data-import-zip-bomb-boundaries", (5,), "data import",
             dimp("boundaries", lambda p: declared_zip(p.with_suffix(".zip"), "b.geojson", 4 * GB - 1)),
             r"expands to 4\.0 GB", output=None),
        Case("data-import-pack-name-newline", (13,), "data import",
             dimp("population", lambda p: write(p, "x\n"), name="ons-2021\n"),
             r"invalid pack name", output=None),
    ]


def _practices_cases() -> list[Case]:
    def prac(make, option: str | None = None):
        def build(d):
            p = make(d)
            if option:
                good = write(d / "gp-reg-pat-prac-all.csv", "PRACTICE_CODE,POSTCODE,NUMBER_OF_PATIENTS\n")
                return ["data", "practices", str(good), option, str(p)], p
            return ["data", "practices", str(p)], p
        return build

    return [
        Case("practices-zip-bomb", (5,), "data practices", prac(lambda d: zip_bomb(d / "gp.zip")),
             r"expands to 300\.0 MB, more than the 256\.0 MB limit", output=None),
        Case("practices-dev-urandom", (5,), "data practices", prac(lambda d: link(d / "gp.csv", "/dev/urandom")),
             r"character device", output=None),
        Case("practices-fifo", (5,), "data practices", prac(lambda d: fifo(d / "gp.csv")), r"FIFO", output=None),
        Case("practices-fifo-map", (5,), "data practices", prac(lambda d: fifo(d / "map.csv"), "--map"), r"FIFO",
             output=None),
        Case("practices-sparse-1gb", (5,), "data practices", prac(lambda d: sparse(d / "gp.csv", GB)),
             r"too large", output=None),
    ]


def _output_cases() -> list[Case]:
    def metrics_to(make_out):
        def build(d):
            out = make_out(d)
            return ["metrics", "--format", "csv", "-o", str(out)], out
        return build

    return [
        Case("metrics-output-dev-full", (8,), "metrics -o", metrics_to(lambda d: Path("/dev/full")),
             r"/dev/full: could not write: No space left on device", output=None),
        Case("metrics-output-folder", (8,), "metrics -o",
             metrics_to(lambda d: (d / "folder.csv").mkdir() or d / "folder.csv"), r"is a folder", output=None),
        Case("export-gpkg-disk-full", (9,), "export -o",
             lambda d: (["export", "--format", "gpkg", "-o", str(d / "out.gpkg")], d / "out.gpkg"),
             r"out\.gpkg: could not write", expect="error-fsize", output="out.gpkg"),
        # the web page (issue 23): a full disk leaves the earlier page and no temporary file
        Case("export-html-disk-full", (9,), "export -o",
             lambda d: (["export", "--format", "html", "-o", str(d / "out.html")], d / "out.html"),
             r"out\.html: could not write", expect="error-fsize", output="out.html"),
        Case("compare-html-disk-full", (9,), "compare",
             lambda d: (["compare", "--with-baseline", "--format", "html", "-o", str(d / "cmp.html")],
                        d / "cmp.html"),
             r"cmp\.html: could not write", expect="error-fsize", output="cmp.html"),
    ]


def _pack_cases() -> list[Case]:
    """Files in icbmap's own folders: a FIFO named like a data pack, a FIFO settings file."""
    def packs(d: Path) -> Path:
        folder = d / "home" / "data" / "packs"
        folder.mkdir(parents=True)
        return folder

    def settings(d: Path) -> Path:
        folder = d / "home" / "config"
        folder.mkdir(parents=True)
        return fifo(folder / "settings.json")

    return [
        Case("pack-fifo-metrics", (3,), "--pack", lambda d: (["--pack", "evil", "metrics"],
                                                             fifo(packs(d) / "evil.gpkg")),
             r"is a FIFO", output=None, home=True),
        Case("pack-fifo-data-list", (3,), "data list", lambda d: (["data", "list"], fifo(packs(d) / "evil.gpkg")),
             expect="ok", output=None, home=True),
        Case("settings-fifo-data-list", (3,), "settings", lambda d: (["data", "list"], settings(d)),
             expect="ok", output=None, home=True),
        # read at every pack load: passed over with a warning, never a hang
        Case("areas-home-fifo-data-info", (3,), "saved reference geographies",
             lambda d: (["data", "info"], fifo(home_folder(d, "areas") / "evil.json")),
             expect="ok", output=None, home=True),
        Case("areas-home-deep-data-info", (1,), "saved reference geographies",
             lambda d: (["data", "info"], write(home_folder(d, "areas") / "deep.json", "[" * 100_000 + "]" * 100_000)),
             expect="ok", output=None, home=True),
        Case("trusts-home-fifo-data-info", (3,), "saved trusts table",
             lambda d: (["data", "info"], fifo(home_folder(d, "trusts") / "trusts.csv")),
             expect="ok", output=None, home=True),
    ]


def home_folder(d: Path, name: str) -> Path:
    folder = d / "home" / "data" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _principles_cases() -> list[Case]:
    """``check`` (its proposal, --rules and --compare files), ``data areas add``, ``data trusts``."""
    def cmd(argv_of, make):
        def build(d):
            p = make(d)
            return argv_of(p), p
        return build

    rules = lambda p: ["check", "--rules", str(p)]  # noqa: E731
    return [
        Case("check-fifo-proposal", (3,), "check", cmd(lambda p: ["check", str(p)],
                                                       lambda d: fifo(d / "pipe.icbmap.json")), r"FIFO", output=None),
        Case("check-rules-fifo", (3,), "check --rules", cmd(rules, lambda d: fifo(d / "rules.toml")), r"FIFO",
             output=None),
        Case("check-rules-deep-json", (1,), "check --rules",
             cmd(rules, lambda d: write(d / "rules.json", "[" * 100_000 + "]" * 100_000)), r"nested too deeply",
             output=None),
        Case("check-rules-huge-number-toml", (2,), "check --rules",
             cmd(rules, lambda d: write(d / "rules.toml", "x = " + "9" * 5000 + "\n")), r"4300 digits", output=None),
        Case("check-rules-deep-toml", (1,), "check --rules",
             cmd(rules, lambda d: write(d / "rules.toml", "x = " + "[" * 100_000 + "]" * 100_000 + "\n")),
             r"nested too deeply", output=None),
        Case("check-rules-nan-weight", (0,), "check --rules",
             cmd(rules, lambda d: write(d / "rules.toml", 'name = "x"\n[[rule]]\nkind = "nest_or_contain"\n'
                                                          'hard = false\nweight = nan\n')),
             r"'rule\[0\]\.weight' is not a finite number", output=None),
        Case("check-rules-inf-weight", (0,), "check --rules",
             cmd(rules, lambda d: write(d / "rules.toml", 'name = "x"\n[[rule]]\nkind = "contiguous"\n'
                                                          'weight = inf\n')),
             r"'rule\[0\]\.weight' is not a finite number", output=None),
        Case("check-rules-dev-urandom", (5,), "check --rules",
             cmd(rules, lambda d: link(d / "rules.json", "/dev/urandom")), r"character device", output=None),
        Case("check-compare-fifo", (3,), "check --compare",
             cmd(lambda p: ["check", "--compare", str(p)], lambda d: fifo(d / "other.icbmap.json")), r"FIFO",
             output=None),
        Case("areas-add-fifo-csv", (3,), "data areas add",
             cmd(lambda p: ["data", "areas", "add", "hostile", str(p)], lambda d: fifo(d / "areas.csv")), r"FIFO",
             output=None),
        Case("areas-add-sparse-1gb-csv", (4,), "data areas add",
             cmd(lambda p: ["data", "areas", "add", "hostile", str(p)], lambda d: sparse(d / "areas.csv", GB)),
             r"too large", output=None),
        Case("areas-add-dev-urandom-polygons", (5,), "data areas add",
             cmd(lambda p: ["data", "areas", "add", "hostile", str(p)],
                 lambda d: link(d / "areas.geojson", "/dev/urandom")), r"character device", output=None),
        Case("compare-fifo-proposal", (3,), "compare",
             cmd(lambda p: ["compare", str(p)], lambda d: fifo(d / "pipe.icbmap.json")), r"FIFO", output=None),
        Case("compare-deep-proposal", (1,), "compare",
             cmd(lambda p: ["compare", str(p)], lambda d: write(d / "deep.icbmap.json", "[" * 100_000 + "]" * 100_000)),
             r"nested too deeply", output=None),
        Case("compare-rules-fifo", (3,), "compare --rules",
             cmd(lambda p: ["compare", "--with-baseline", "--rules", str(p)], lambda d: fifo(d / "rules.toml")),
             r"FIFO", output=None),
        Case("print-compare-fifo", (3,), "print --compare",
             cmd(lambda p: ["print", "--compare", str(p), "-o", str(p.parent / "out.pdf")],
                 lambda d: fifo(d / "pipe.icbmap.json")), r"FIFO", output=None),
        Case("suggest-deep-proposal", (1,), "suggest",
             cmd(lambda p: ["suggest", str(p), "--blocks", "councils", "--boards", "3", "--scope", "E54000007",
                            "-o", str(p.parent / "sug")],
                 lambda d: write(d / "deep.icbmap.json", "[" * 100_000 + "]" * 100_000)),
             r"nested too deeply", output=None),
        Case("suggest-rules-fifo", (3,), "suggest --rules",
             cmd(lambda p: ["suggest", "--rules", str(p), "--blocks", "councils", "--boards", "3", "--scope",
                            "E54000007", "-o", str(p.parent / "sug")], lambda d: fifo(d / "rules.toml")),
             r"FIFO", output=None),
        Case("suggest-rules-all-soft", (0,), "suggest --rules",
             cmd(lambda p: ["suggest", "--rules", str(p), "--blocks", "boards", "--boards", "3", "--scope",
                            "E54000007", "-o", str(p.parent / "sug")],
                 lambda d: write(d / "rules.toml", 'name = "x"\n[[rule]]\nkind = "population"\nmin = 0\n'
                                                    'hard = false\n[[rule]]\nkind = "contiguous"\nhard = false\n')),
             r"every rule is soft", output=None),
        Case("trusts-fifo-ae", (3,), "data trusts --ae",
             cmd(lambda p: ["data", "trusts", str(p.parent / "etr.csv"), "--ae", str(p)],
                 lambda d: (write(d / "etr.csv", "x\n"), fifo(d / "ae.csv"))[1]), r"FIFO", output=None),
        Case("practices-fifo-lsoa", (3,), "data practices --lsoa",
             cmd(lambda p: ["data", "practices", str(p.parent / "gp.csv"), "--lsoa", str(p)],
                 lambda d: (write(d / "gp.csv", "x\n"), fifo(d / "lsoa.csv"))[1]), r"FIFO", output=None),
        Case("trusts-fifo", (3,), "data trusts",
             cmd(lambda p: ["data", "trusts", str(p)], lambda d: fifo(d / "etr.csv")), r"FIFO", output=None),
        Case("trusts-sparse-1gb", (4,), "data trusts",
             cmd(lambda p: ["data", "trusts", str(p)], lambda d: sparse(d / "etr.csv", GB)), r"too large",
             output=None),
    ]


def _issue21_cases() -> list[Case]:
    """Issue 21: outputs over inputs, NaN rules, huge names, bad suggest options, bad
    polygons for ``data areas add``, a folder/FIFO settings lock, a proposal's bad baseline,
    empty rule files, a huge --focus, bidi names and control characters in -o."""
    out: list[Case] = []

    def proposal(d: Path, name: str = "a.icbmap.json", **kw) -> Path:
        return write(d / name, envelope(**kw))

    # 1. -o naming an input: the same path, a symlink to it, a hard link to it
    over = {
        "compare": lambda a, b, d: ["compare", str(a), str(b), "-o", str(b)],
        "metrics": lambda a, b, d: ["metrics", str(a), "-o", str(a)],
        "export": lambda a, b, d: ["export", str(a), "--format", "geojson", "-o", str(a)],
        "check": lambda a, b, d: ["check", str(a), "--rules", str(b), "-o", str(b)],
        "import": lambda a, b, d: ["import", str(a), "-o", str(a)],
        "print --compare": lambda a, b, d: ["print", "--compare", str(a), str(b), "-o", str(a)],
        "suggest": lambda a, b, d: ["suggest", str(a), "--blocks", "councils", "--boards", "3", "-o", str(a)],
    }
    for cmd, argv in over.items():
        def build(d, argv=argv, cmd=cmd):
            a = proposal(d)
            b = write(d / "rules.toml", '[[rule]]\nkind = "population"\nmin = 1\n') if cmd == "check" \
                else proposal(d, "b.icbmap.json", title="b")
            args = argv(a, b, d)
            return args, Path(args[-1])
        out.append(Case(f"i21-output-over-input-{cmd.replace(' ', '-')}", (0,), cmd + " -o", build,
                        r"-o .*: is an input of this command", output=None, issue21=(1,)))

    def linked(kind):
        def build(d):
            a = proposal(d)
            o = d / "out.csv"
            os.symlink(a, o) if kind == "symlink" else os.link(a, o)
            return ["metrics", str(a), "--format", "csv", "-o", str(o)], a
        return build
    out += [Case(f"i21-output-{k}-to-input", (0,), "metrics -o", linked(k), r"is an input of this command",
                 output=None, issue21=(1,)) for k in ("symlink", "hardlink")]
    out.append(Case("i21-output-name-newline", (0,), "export -o",
                    lambda d: (["export", "--format", "shp", "-o", str(d / "a\nb.zip")], None),
                    r"control or bidirectional character \(U\+000A\)", output=None, issue21=(17,)))

    # 3, 4, 16. rule files: NaN, inf, a 30-digit number, empty, rule = []
    rules = {
        "nan-tolerance": '[[rule]]\nkind = "max_areas"\ngeography = "council"\nmax = 3\ntolerance = nan\n',
        "inf-min": '[[rule]]\nkind = "population"\nmin = inf\n',
        "huge-min": '[[rule]]\nkind = "population"\nmin = 1' + "0" * 30 + "\n",
        "nan-weight": '[[rule]]\nkind = "population"\nmin = 1\nweight = nan\n',
        "empty": "",
        "no-rules": "rule = []\n",
        "bidi-label": '[[rule]]\nkind = "population"\nmin = 1\nlabel = "\u202eevil"\n',
    }
    for name, text in rules.items():
        msg = r"holds no rules" if name in ("empty", "no-rules") else (
            r"U\+202E" if name == "bidi-label" else r"finite")
        for cmd in ("check", "compare", "suggest"):
            if cmd != "check" and name not in ("nan-tolerance", "empty"):
                continue
            argv = {"check": lambda p: ["check", "--rules", str(p)],
                    "compare": lambda p: ["compare", "--with-baseline", "--rules", str(p)],
                    "suggest": lambda p: ["suggest", "--rules", str(p), "--blocks", "councils", "--boards", "5-7",
                                          "--scope", "East of England", "-o", str(p.parent / "sug")]}[cmd]
            out.append(Case(f"i21-{cmd}-rules-{name}", (0,), f"{cmd} --rules",
                            _with(lambda d, text=text: write(d / "rules.toml", text), lambda p, d, argv=argv: argv(p)),
                            msg, output=None, issue21=(3, 4) if name not in ("empty", "no-rules") else (16,)))

    # 5, 17. a 1 MB board name, a bidi-override name
    out.append(Case("i21-export-1mb-board-name", (0,), "export",
                    _with(lambda d: write(d / "long.icbmap.json", envelope([board(0, "x" * 1_000_000)])),
                          lambda p, d: ["export", str(p), "--format", "csv", "-o", str(d / "out.csv")]),
                    r"1,000,000 characters long, more than the 300", issue21=(5,)))
    out.append(Case("i21-export-bidi-board-name", (0,), "export",
                    _with(lambda d: write(d / "bidi.icbmap.json", envelope([board(0, "\u202eevil\u202c.exe")])),
                          lambda p, d: ["export", str(p), "--format", "shp", "-o", str(d / "out.zip")]),
                    r"bidirectional control character \(U\+202E\)", output="out.zip", issue21=(17,)))

    # 6, 7, 14. suggest options
    sug = ["suggest", "--blocks", "councils", "--scope", "East of England"]
    options = {
        "floor-inf": (["--boards", "3", "--floor", "inf"], r"--floor 'inf': not a finite number"),
        "floor-1e400": (["--boards", "3", "--floor", "1e400"], r"--floor '1e400': not a finite number"),
        "floor-5000-digits": (["--boards", "3", "--floor", "9" * 5000], r"--floor .*5,000 characters"),
        "floor-nan": (["--boards", "3", "--floor", "nan"], r"--floor 'nan': not a finite number"),
        "boards-400-digits": (["--boards", "1-" + "9" * 400], r"--boards .*at most 1000"),
        "workers-100000": (["--boards", "3", "--workers", "100000"], r"--workers is 100,000: it should be at most 64"),
        "time-limit-nan": (["--boards", "3", "--time-limit", "nan"], r"--time-limit is nan"),
    }
    for name, (extra, msg) in options.items():
        out.append(Case(f"i21-suggest-{name}", (0,), "suggest",
                        lambda d, extra=extra: (sug + extra + ["-o", str(d / "sug")], None), msg, output=None,
                        issue21=(14,) if name in ("floor-nan", "workers-100000") else ((7,) if "boards" in name else (6,))))

    # 8, 9, 13. data areas add: bad polygons and names
    def square(x0=450000, y0=250000, s=5000):
        return [[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]

    def fc(features, crs="EPSG:27700"):
        return json.dumps({"type": "FeatureCollection",
                           "crs": {"type": "name", "properties": {"name": crs}}, "features": features})

    def feat(geom, name="Area A"):
        return {"type": "Feature", "properties": {"name": name}, "geometry": geom}

    poly = lambda ring: {"type": "Polygon", "coordinates": [ring]}  # noqa: E731
    areas = {
        "null-geometry": (fc([feat(poly(square())), feat(None, "Area B")]), r"feature #2 \('Area B'\) has no geometry"),
        "empty-polygon": (fc([feat({"type": "Polygon", "coordinates": []})]), r"is an empty polygon"),
        "nan-coordinate": (fc([feat(poly(square()))]).replace("450000", "NaN", 1), r"NaN is not allowed"),
        "inf-coordinate": (fc([feat(poly(square()))]).replace("450000", "1e400", 1), r"is inf, not a finite number"),
        "two-point-ring": (fc([feat(poly(square()[:2]))]), r"a ring has 2 points"),
        "unclosed-ring": (fc([feat(poly(square()[:4] + [[1, 2]]))]), r"a ring is not closed"),
        "unknown-crs": (fc([feat(poly(square()))], crs="EPSG:999999"), r"unknown coordinate reference system 'EPSG:999999'"),
        "null-name": (fc([feat(poly(square())), feat(poly(square(460000))), ]).replace('"Area A"', "null", 1),
                      r"has no name \(null"),
        "number-name": (fc([feat(poly(square()), "Area A"), feat(poly(square(460000)), "Area B")]).replace('"Area B"', "5"),
                        r"feature #2: the name in field 'name' is int 5, not text"),
        "bidi-name": (fc([feat(poly(square()), "\u202eevil")]), r"U\+202E"),
    }
    for name, (text, msg) in areas.items():
        out.append(Case(f"i21-areas-add-{name}", (0,), "data areas add",
                        _with(lambda d, text=text: write(d / "areas.geojson", text),
                              lambda p, d: ["data", "areas", "add", "hostile", str(p)]),
                        msg, output=None, home=True,
                        issue21=(13,) if name in ("null-geometry", "empty-polygon", "unknown-crs") else
                        ((9,) if "name" in name else (8,))))

    # 11. the settings lock as a folder or a FIFO
    def lock(kind):
        def build(d):
            folder = d / "home" / "config"
            folder.mkdir(parents=True)
            p = folder / "settings.json.lock"
            p.mkdir() if kind == "folder" else os.mkfifo(p)
            return ["data", "use", "england-offline"], p
        return build
    out += [Case(f"i21-settings-lock-{k}", (0,), "settings", lock(k), r"not the settings lock file|is a folder",
                 output=None, home=True, issue21=(11,)) for k in ("folder", "fifo")]

    # 12. a proposal's baseline that is a path
    out.append(Case("i21-proposal-baseline-path", (0,), "metrics",
                    _with(lambda d: write(d / "base.icbmap.json",
                                          dict(envelope(), pack={"name": "england-offline", "content_hash": "0" * 16,
                                                                 "baseline": "../../../../etc/passwd"})),
                          lambda p, d: ["metrics", str(p)]),
                    r"records the baseline '\.\./\.\./\.\./\.\./etc/passwd', which is not a baseline key",
                    output=None, issue21=(12,)))

    # 4, 5. a proposal with 1e400 (parses as infinity) and one with a bidi-override title
    def inf_proposal(d):
        return write(d / "inf.icbmap.json", json.dumps(envelope([board(1)])).replace('"id": 1', '"id": 1e400'))
    out.append(Case("i21-metrics-proposal-1e400", (0,), "metrics",
                    _with(inf_proposal, lambda p, d: ["metrics", str(p), "--format", "csv", "-o", str(d / "out.csv")]),
                    r"'plan\.boards\[0\]\.id' is not a finite number", issue21=(4,)))
    out.append(Case("i21-export-proposal-bidi-title", (0,), "export",
                    _with(lambda d: write(d / "t.icbmap.json", dict(envelope(), title="\u202eevil")),
                          lambda p, d: ["export", str(p), "--format", "csv", "-o", str(d / "out.csv")]),
                    r"the proposal's title .*U\+202E", issue21=(5, 17)))

    out.append(Case("i21-print-bidi-title", (0,), "print",
                    lambda d: (["print", "--title", "\u202eevil\u202c.exe", "-o", str(d / "out.pdf")], None),
                    r"--title: the title .*U\+202E", output="out.pdf", issue21=(17,)))

    # 16. a 100,000-character --focus is not echoed whole
    out.append(Case("i21-compare-huge-focus", (0,), "compare",
                    lambda d: (["compare", "--with-baseline", "--focus", "x" * 100_000], None),
                    r"^.{0,600}$", output=None, issue21=(16,)))
    return out


def cases() -> list[Case]:
    return (_proposal_cases() + _import_cases() + _data_import_cases() + _practices_cases() + _output_cases()
            + _pack_cases() + _principles_cases() + _issue21_cases())


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for case in cases():
        argv, _ = case.make(root / case.id)
        print(case.id, " ".join(["icbmap"] + PACK + [repr(a) if " " in a or "\n" in a else a for a in argv])[:200])
