"""Tables derived from an atlas, kept in one place with one owner.

Higher packages (metrics, plan, compare, ...) derive tables from an atlas that are the same
for every plan over it: the island units of the adjacency, the baseline board colours, a
practice-code index, area names.  Each registers its table here by name, with the parts of
the atlas it is derived from; :meth:`DerivedCache.invalidate` (called by the atlas when one
of its parts changes, e.g. :meth:`~icbmap.atlas.model.Atlas.set_practices`) drops every
table derived from that part.  Nobody stores anything on the atlas object itself.
"""

from __future__ import annotations

from typing import Any, Callable

#: The parts of an atlas a derived table may depend on.
PARTS = frozenset({"units", "layers", "adjacency", "practices", "references", "trusts"})


class DerivedCache:
    """Derived tables of one atlas, by name: computed on first use, kept until invalidated."""

    def __init__(self) -> None:
        self._tables: dict[str, Any] = {}
        self._depends: dict[str, frozenset[str]] = {}

    def get(self, name: str, build: Callable[[], Any], depends: tuple[str, ...] = ()) -> Any:
        """The table ``name``, built by ``build()`` the first time (and again after its
        ``depends`` parts of the atlas change)."""
        try:
            return self._tables[name]
        except KeyError:
            pass
        bad = set(depends) - PARTS
        if bad:
            raise ValueError(f"unknown atlas parts {sorted(bad)} (known: {sorted(PARTS)})")
        value = build()
        self._tables[name] = value
        self._depends[name] = frozenset(depends)
        return value

    def invalidate(self, part: str | None = None) -> list[str]:
        """Drop the tables derived from ``part`` of the atlas (every table when ``None``);
        returns their names."""
        gone = [n for n, d in self._depends.items() if part is None or part in d]
        for n in gone:
            del self._tables[n]
            del self._depends[n]
        return gone

    def discard(self, name: str) -> None:
        """Drop one table (its owner found it stale)."""
        self._tables.pop(name, None)
        self._depends.pop(name, None)

    def names(self) -> list[str]:
        return list(self._tables)

    def __contains__(self, name: str) -> bool:
        return name in self._tables

    def __len__(self) -> int:
        return len(self._tables)


__all__ = ["PARTS", "DerivedCache"]
