"""Old path of :mod:`icbmap.cli.data` (kept for callers in icbmap.app until they move; the
same module object, so monkeypatching either name patches both)."""

import sys

from icbmap.cli import data as _data

sys.modules[__name__] = _data
