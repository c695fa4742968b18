"""Old path of :mod:`icbmap.cli.areas` (kept for callers in icbmap.app until they move; the
same module object, so monkeypatching either name patches both)."""

import sys

from icbmap.cli import areas as _areas

sys.modules[__name__] = _areas
