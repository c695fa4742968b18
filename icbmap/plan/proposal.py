"""Proposal files (``.icbmap.json``): a plan plus who drew it, when, and on which data.

File layout (JSON, UTF-8)::

    {
      "format": "icbmap-proposal",          # marks the file as ours
      "schema": 1,                          # bumped when the layout changes
      "app": "icbmap 0.1.0",               # the version that wrote it (informational)
      "pack": {"name": "england-offline", "content_hash": "d50a5cc1aaceba44"},
      "title": "...", "author": "...", "notes": "...",
      "created": "2026-11-24T18:30:00Z", "modified": "2026-11-24T18:45:12Z",
      "plan": { ... Plan.to_dict(): boards and the assignment as changes ... }
    }

Writing is atomic (temporary file in the same folder, fsync, rename): an interrupted save
leaves the previous file as it was.  Reading checks everything before touching the
caller's work and raises :class:`ProposalError` (a :class:`~icbmap.errors.DataError`
naming the file) for a missing, oversized, truncated, foreign or malformed file, a newer
schema or codes the data pack does not know.  A proposal drawn on a different data pack
raises :class:`PackMismatchError`, which carries a :class:`MappingReport` and the proposal
mapped onto the current pack by codes, so the app can offer "map it" and list what did not
map.

This module stays whole (about 520 lines) on purpose: the writer and the reader of the
envelope stay side by side, so a change to the format is made in one place; mapping a plan onto another pack by codes is :mod:`icbmap.plan.packmap`
(below this module, and below :mod:`icbmap.plan.legacy`, which both use it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from icbmap import __version__
from icbmap.atomic import atomic_write_text
from icbmap.settings import read_settings, update_settings
from icbmap.errors import DataError
from icbmap.plan.model import MAX_BOARDS, colour_problem, name_problem
from icbmap.plan.packmap import MappingReport, ProposalError, map_plan_dict, plan_from_dict
from icbmap.safeio import loads_json, read_input

FORMAT = "icbmap-proposal"
#: 2: ``pack.baseline`` names the board configuration the plan is drawn against
SCHEMA = 2
#: the offline default before 2026 (2011 LSOAs, July 2022 boards) wrote proposals with this
#: pack name and no baseline; they are mapped onto 2021 LSOAs (icbmap.plan.legacy)
LEGACY_OFFLINE = "england-offline"
SUFFIX = ".icbmap.json"
#: Largest proposal file we agree to read.  A full England plan is well under 2 MB.
MAX_BYTES = 32 * 1024 * 1024
RECENT_KEY = "recent_proposals"
RECENT_MAX = 10


class BaselineMismatchError(ProposalError):
    """The proposal is drawn against another board configuration of the same data pack;
    ``baseline`` is its key: load the atlas with that baseline and read it again."""

    def __init__(self, path, problem: str, baseline: str):
        super().__init__(path, problem)
        self.baseline = baseline


class PackMismatchError(ProposalError):
    """The proposal was drawn on another data pack.

    ``report`` says what maps onto the current pack by codes and what does not;
    ``mapped`` is the proposal mapped onto the current pack (open it if the user agrees).
    """

    def __init__(self, path, problem: str, report: "MappingReport", mapped: "Proposal"):
        super().__init__(path, problem)
        self.report = report
        self.mapped = mapped


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value, path, key: str) -> datetime:
    if not isinstance(value, str):
        raise ProposalError(path, f"'{key}' should be a date-time string, found {_kind(value)}")
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProposalError(path, f"'{key}' is not a date-time: {value[:40]!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t


def _kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


@dataclass
class Proposal:
    """A plan with its title, author, notes, times and the data pack it was drawn on."""

    plan: Any
    title: str = ""
    author: str = ""
    notes: str = ""
    created: datetime = field(default_factory=utc_now)
    modified: datetime = field(default_factory=utc_now)
    pack_name: str = ""
    pack_hash: str = ""
    path: Path | None = None
    mapping: MappingReport | None = None
    #: the rule set checked with this proposal (a :class:`icbmap.principles.RuleSet`), or None
    rules: Any = None
    #: reference geographies the proposal uses: [{"name", "label", "source"}]
    references: list = field(default_factory=list)
    #: names of those the atlas in use lacks (set when read)
    missing_references: list = field(default_factory=list)

    @classmethod
    def new(cls, plan, title: str = "", author: str = "", notes: str = "") -> "Proposal":
        now = utc_now()
        atlas = plan.atlas
        return cls(plan=plan, title=title, author=author, notes=notes, created=now, modified=now,
                   pack_name=atlas.name, pack_hash=atlas.content_hash)

    @property
    def atlas(self):
        return self.plan.atlas

    @property
    def display_name(self) -> str:
        if self.title:
            return self.title
        if self.path is not None:
            name = Path(self.path).name
            return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else Path(name).stem
        return "Untitled proposal"

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "schema": SCHEMA,
            "app": f"icbmap {__version__}",
            "pack": {"name": self.atlas.name,
                     "content_hash": self.atlas.content_hash,
                     "boards": int(getattr(self.plan, "n_baseline_boards", len(self.atlas.layers["board"]))),
                     "baseline": self.atlas.baseline,
                     "baseline_label": self.atlas.baseline_label},
            "title": self.title,
            "author": self.author,
            "notes": self.notes,
            "created": _iso(self.created),
            "modified": _iso(self.modified),
            "plan": self.plan.to_dict(),
            **({"principles": self.rules.to_dict()} if self.rules is not None else {}),
            **({"references": list(self.references)} if self.references else {}),
        }


def proposal_json(proposal: Proposal) -> str:
    return json.dumps(proposal.to_dict(), ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def write_proposal(path: str | Path, proposal: Proposal, touch: bool = True) -> Path:
    """Save ``proposal`` to ``path`` atomically; sets ``proposal.path`` (and ``modified``).

    The text is produced completely before the file is touched, and written through a
    temporary file that is fsynced and renamed over ``path``: if anything fails or the
    process dies part way, ``path`` still holds the previous save.
    """
    path = Path(path)
    previous = proposal.modified
    if touch:
        proposal.modified = utc_now()
    try:
        text = proposal_json(proposal)
        atomic_write_text(path, text)
        _shareable(path)
    except OSError as exc:
        proposal.modified = previous
        raise ProposalError(path, f"could not save: {exc.strerror or exc}") from exc
    except BaseException:
        proposal.modified = previous
        raise
    proposal.path = path
    return path


def _shareable(path: Path) -> None:
    """Undo mkstemp's private 0600 mode: a saved proposal gets ``0666 & ~umask``."""
    if os.name == "nt":  # pragma: no cover
        return
    mask = 0o022
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    mask = int(line.split()[1], 8)
    except OSError:
        pass
    try:
        if Path(path).is_file():  # never chmod a device or FIFO written through
            os.chmod(path, 0o666 & ~mask)
    except OSError:
        pass


# ------------------------------------------------------------------- reading
def read_bytes_limited(path: str | Path, limit: int = MAX_BYTES, what: str = "file",
                       error=DataError) -> bytes:
    """The bytes of ``path``, refusing files that are not regular files or exceed ``limit``.

    The size is checked with ``fstat`` before anything is read, and the read itself stops at
    ``limit + 1`` bytes, so a huge (or sparse, or lying) file is never loaded into memory;
    a FIFO or device is refused without blocking (see :mod:`icbmap.safeio`).
    """
    return read_input(Path(path), what, limit, error)


def parse_proposal_bytes(data: bytes, path) -> dict:
    """Decode and check the envelope of a proposal file; returns the JSON object."""
    if not data.strip():
        raise ProposalError(path, "the file is empty")
    if data[:4] in (b"PK\x03\x04",) or data[:16].startswith(b"SQLite format 3"):
        raise ProposalError(path, "not an icbmap proposal (this is a zip/GeoPackage file, not JSON); "
                                  "use Import for boards drawn in other tools")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProposalError(path, f"not an icbmap proposal: not UTF-8 text (byte {exc.start})") from None
    obj = loads_json(text, path, "proposal", ProposalError)
    if not isinstance(obj, dict):
        raise ProposalError(path, f"not an icbmap proposal: the file holds {_kind(obj)}, not an object")
    from icbmap.guards import refuse_nonfinite, text_problem

    refuse_nonfinite(obj, path, "proposal", ProposalError)   # 1e400 parses as inf (issue 21)
    for key in ("title", "author"):
        problem = isinstance(obj.get(key), str) and text_problem(obj[key], f"the proposal's {key}", limit=500)
        if problem:
            raise ProposalError(path, problem)
    fmt = obj.get("format")
    if fmt != FORMAT:
        if obj.get("type") in ("FeatureCollection", "Feature"):
            raise ProposalError(path, "not an icbmap proposal: this is a GeoJSON file; "
                                      "use Import (icbmap import) for boards drawn elsewhere")
        raise ProposalError(path, "not an icbmap proposal (no \"format\": \"icbmap-proposal\" marker)")
    schema = obj.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ProposalError(path, f"'schema' should be a positive whole number, found {_kind(schema)}")
    if schema > SCHEMA:
        raise ProposalError(path, f"written by a newer icbmap ({obj.get('app', 'unknown version')}, "
                                  f"schema {schema}); this version ({__version__}) reads schema {SCHEMA}. "
                                  "Update icbmap to open it")
    return obj


def _check_envelope(obj: dict, path) -> dict:
    """Type-check the members other than ``plan``; returns the cleaned values."""
    out = {}
    pack = obj.get("pack")
    if not isinstance(pack, dict):
        raise ProposalError(path, f"'pack' should be an object with name and content_hash, found {_kind(pack)}")
    for key in ("name", "content_hash"):
        if not isinstance(pack.get(key), str):
            raise ProposalError(path, f"'pack.{key}' should be a string, found {_kind(pack.get(key))}")
    out["pack"] = {"name": pack["name"], "content_hash": pack["content_hash"]}
    nb = pack.get("boards")
    if isinstance(nb, int) and not isinstance(nb, bool) and nb >= 0:
        out["pack"]["boards"] = nb
    for key in ("baseline", "baseline_label"):
        v = pack.get(key)
        if v is not None and not isinstance(v, str):
            raise ProposalError(path, f"'pack.{key}' should be a string, found {_kind(v)}")
        out["pack"][key] = v or ""
    for key in ("title", "author", "notes"):
        v = obj.get(key, "")
        if v is None:
            v = ""
        if not isinstance(v, str):
            raise ProposalError(path, f"'{key}' should be a string, found {_kind(v)}")
        out[key] = v
    for key in ("created", "modified"):
        out[key] = _parse_time(obj.get(key), path, key)
    if "plan" not in obj:
        raise ProposalError(path, "no 'plan' member: the file holds no boards or assignment")
    plan = obj["plan"]
    if not isinstance(plan, dict):
        raise ProposalError(path, f"'plan' should be an object, found {_kind(plan)}")
    boards = plan.get("boards")
    if not isinstance(boards, list) or not boards:
        raise ProposalError(path, f"'plan.boards' should be a non-empty list of boards, found {_kind(boards)}")
    if len(boards) > MAX_BOARDS:
        raise ProposalError(path, f"'plan.boards' lists {len(boards):,} boards, more than the "
                                  f"{MAX_BOARDS:,} a plan may hold")
    for pos, b in enumerate(boards):
        if not isinstance(b, dict):
            raise ProposalError(path, f"board #{pos} in 'plan.boards' should be an object, found {_kind(b)}")
        for key, kind in (("code", str), ("name", str), ("colour", str)):
            if not isinstance(b.get(key), kind):
                raise ProposalError(path, f"board #{pos} in 'plan.boards': '{key}' should be a string, "
                                          f"found {_kind(b.get(key))}")
        bad = (name_problem(b["code"], "code") or name_problem(b["name"], "name")
               or colour_problem(b["colour"]))
        if bad:
            raise ProposalError(path, f"board #{pos} in 'plan.boards': {bad}")
        if not isinstance(b.get("id"), int) or isinstance(b.get("id"), bool):
            raise ProposalError(path, f"board #{pos} in 'plan.boards': 'id' should be a whole number, "
                                      f"found {_kind(b.get('id'))}")
    for key in ("units", "practices"):
        if plan.get(key) is not None and not isinstance(plan.get(key), dict):
            raise ProposalError(path, f"'plan.{key}' should be an object of board id -> codes, "
                                      f"found {_kind(plan.get(key))}")
    return out


def read_proposal(path: str | Path, atlas, map_pack: bool = False) -> Proposal:
    """Open and validate the proposal at ``path`` against ``atlas``.

    Nothing outside the returned object is changed, so on any error the caller's current
    work is untouched.  If the file was drawn on a different data pack, raises
    :class:`PackMismatchError` unless ``map_pack`` is true, in which case the mapped
    proposal is returned with ``proposal.mapping`` set.
    """
    path = Path(path)
    data = read_bytes_limited(path, MAX_BYTES, "proposal file", ProposalError)
    obj = parse_proposal_bytes(data, path)
    env = _check_envelope(obj, path)
    here = {"name": atlas.name, "content_hash": atlas.content_hash}
    same_pack = env["pack"]["content_hash"] == atlas.content_hash
    want = file_baseline(obj)
    if want and want != atlas.baseline and (same_pack or is_legacy_offline(obj)):
        info = atlas.baseline_info(want)
        if not info:
            have = ", ".join(str(c.get("key")) for c in atlas.baselines) or "only its own boards"
            raise ProposalError(path, f"drawn on the baseline {want!r} "
                                      f"({env['pack'].get('baseline_label') or 'unknown'}), which data pack "
                                      f"{atlas.name!r} does not have (it has {have})")
        raise BaselineMismatchError(
            path, f"drawn on the {info.get('label', want)} baseline; this window shows "
                  f"{atlas.baseline_label}", want)
    plan_dict = obj["plan"]
    report = None
    if not same_pack and is_legacy_offline(obj) and atlas.name == LEGACY_OFFLINE:
        from icbmap.plan.legacy import map_legacy_plan

        plan_dict, report = map_legacy_plan(plan_dict, atlas, path, env["pack"].get("boards"))
        report.file_pack = env["pack"]
        report.atlas_pack = here
    elif not same_pack:
        nb = env["pack"].get("boards")
        plan_dict, report = map_plan_dict(plan_dict, atlas, path, nb)
        report.file_pack = env["pack"]
        report.atlas_pack = here
    plan = plan_from_dict(atlas, plan_dict, path)
    if hasattr(report, "moved_lsoas"):
        from icbmap.plan.legacy import finish_report

        finish_report(report, plan)
    proposal = Proposal(plan=plan, title=env["title"], author=env["author"], notes=env["notes"],
                        created=env["created"], modified=env["modified"],
                        pack_name=env["pack"]["name"], pack_hash=env["pack"]["content_hash"], path=path)
    _read_principles(obj, proposal, atlas, path)
    if report is not None:
        proposal.mapping = report
        proposal.pack_name, proposal.pack_hash = atlas.name, atlas.content_hash
        if not map_pack:
            raise PackMismatchError(
                path, f"drawn on a different data pack ({env['pack']['name']!r}, "
                      f"{env['pack']['content_hash']}) from the one in use ({atlas.name!r}, "
                      f"{atlas.content_hash}).\n{report.summary()}", report, proposal)
    return proposal


def is_legacy_offline(obj: dict) -> bool:
    """A proposal drawn on the pre-2026 offline default (2011 LSOAs, July 2022 boards)."""
    pack = obj.get("pack") if isinstance(obj, dict) else None
    return (isinstance(pack, dict) and pack.get("name") == LEGACY_OFFLINE and not pack.get("baseline")
            and obj.get("schema") == 1)


def file_baseline(obj: dict) -> str:
    """The baseline key a parsed proposal is drawn against ("" when it does not say):
    legacy offline proposals are July 2022 ("2022")."""
    if is_legacy_offline(obj):
        return "2022"
    pack = obj.get("pack") if isinstance(obj, dict) else None
    v = pack.get("baseline") if isinstance(pack, dict) else None
    return v if isinstance(v, str) else ""


def proposal_baseline(path: str | Path) -> str:
    """The baseline key recorded in the proposal at ``path`` ("" if none or unreadable:
    reading it properly later gives the error)."""
    try:
        data = read_bytes_limited(path, MAX_BYTES, "proposal file", ProposalError)
        obj = loads_json(data, path, "proposal", ProposalError)
    except DataError:
        return ""
    return file_baseline(obj) if isinstance(obj, dict) else ""


def _read_principles(obj: dict, proposal: Proposal, atlas, path) -> None:
    """The rule set and reference geographies saved with the proposal (if any)."""
    rules = obj.get("principles")
    if rules is not None:
        from icbmap.principles.ruleset import RuleSet

        try:
            proposal.rules = RuleSet.from_dict(rules, path)
        except DataError as exc:
            raise ProposalError(path, f"its principles: {exc.problem}") from None
    refs = obj.get("references") or []
    if not isinstance(refs, list) or not all(isinstance(r, dict) and isinstance(r.get("name"), str) for r in refs):
        raise ProposalError(path, "'references' should be a list of {name, label, source}")
    proposal.references = refs
    have = getattr(atlas, "references", {}) or {}
    proposal.missing_references = [r["name"] for r in refs if "ref:" + r["name"] not in have]


def references_used(atlas, rules) -> list[dict]:
    """The reference geographies a rule set names, as saved with a proposal."""
    if rules is None:
        return []
    out = []
    for r in rules.rules:
        geo = r.params.get("geography")
        key = None if geo is None else (geo if geo.startswith("ref:") else "ref:" + geo)
        if key and key in atlas.references and key[4:] not in [o["name"] for o in out]:
            ref = atlas.references[key]
            out.append({"name": ref.name, "label": ref.label, "source": ref.source})
    return out


def precheck_proposal(path: str | Path) -> None:
    """The checks that need no data pack (size, JSON, envelope, board count, names, colours),
    so the CLI refuses a bad file before spending seconds loading the pack."""
    from icbmap.plan.model import PLAN_FORMAT

    path = Path(path)
    data = read_bytes_limited(path, MAX_BYTES, "proposal file", ProposalError)
    try:
        head = loads_json(data, path, "proposal", ProposalError)
    except ProposalError:
        head = None
    if isinstance(head, dict) and head.get("format") == PLAN_FORMAT:
        boards = head.get("boards")
        if isinstance(boards, list) and len(boards) > MAX_BOARDS:
            raise ProposalError(path, f"'boards' lists {len(boards):,} boards, more than the "
                                      f"{MAX_BOARDS:,} a plan may hold")
        return
    _check_envelope(parse_proposal_bytes(data, path), path)


def load_proposal(path: str | Path, atlas):
    """The proposal at ``path`` (a ``.icbmap.json`` proposal or a bare plan file), for the CLI.

    A proposal drawn on another data pack is an error here (the app offers to map it).
    """
    from icbmap.plan.model import PLAN_FORMAT, Plan, UnknownCodesError

    path = Path(path)
    data = read_bytes_limited(path, MAX_BYTES, "proposal file", ProposalError)
    try:
        head = loads_json(data, path, "proposal", ProposalError)
    except ProposalError:
        head = None  # read_proposal below says what is wrong
    if isinstance(head, dict) and head.get("format") == PLAN_FORMAT:
        try:
            plan = Plan.from_dict(atlas, head)
        except UnknownCodesError as exc:
            raise ProposalError(path, exc.problem) from None
        p = Proposal.new(plan, title="")
        p.path = path
        return p
    try:
        if is_legacy_offline(parse_proposal_bytes(data, path)) and atlas.name == LEGACY_OFFLINE:
            proposal = read_proposal(path, atlas, map_pack=True)
            import sys

            print(f"icbmap: {path}: {proposal.mapping.summary()}", file=sys.stderr)
            return proposal
        return read_proposal(path, atlas)
    except PackMismatchError as exc:
        raise ProposalError(path, f"{exc.problem}\nOpen it in the app to map it onto this data pack, "
                                  "or use --pack to choose the pack it was drawn on") from None


# ------------------------------------------------------------------- recent files
def recent_proposals(existing_only: bool = True) -> list[Path]:
    """Recently opened or saved proposals, most recent first."""
    items = read_settings().get(RECENT_KEY, [])
    if not isinstance(items, list):
        return []
    out = [Path(p) for p in items if isinstance(p, str)]
    return [p for p in out if p.exists()] if existing_only else out


def add_recent_proposal(path: str | Path) -> list[Path]:
    """Put ``path`` at the top of the recent list (kept to :data:`RECENT_MAX`)."""
    p = str(Path(path).resolve())
    with update_settings() as s:  # locked read-modify-write: concurrent adds are all kept
        old = s.get(RECENT_KEY, [])
        items = [x for x in (old if isinstance(old, list) else []) if isinstance(x, str) and x != p]
        s[RECENT_KEY] = [p, *items][:RECENT_MAX]
    return [Path(x) for x in s[RECENT_KEY]]


def remove_recent_proposal(path: str | Path) -> None:
    p = str(Path(path).resolve())
    with update_settings() as s:
        old = s.get(RECENT_KEY, [])
        s[RECENT_KEY] = [x for x in (old if isinstance(old, list) else []) if x != p]


__all__ = [
    "load_proposal", "precheck_proposal", "proposal_baseline", "file_baseline", "BaselineMismatchError",
    "FORMAT", "MAX_BYTES", "SCHEMA", "SUFFIX", "MappingReport", "PackMismatchError", "Proposal",
    "ProposalError", "add_recent_proposal", "read_bytes_limited", "read_proposal",
    "recent_proposals", "remove_recent_proposal", "write_proposal",
]
