"""icbmap: redraw NHS England's integrated care board geography."""

__version__ = "0.1.0"

# The atlas layer calls the GP practices code through icbmap.atlas.hooks (it imports nothing
# above itself); register it here so every caller of the atlas gets it. Cheap: no pandas.
from icbmap.practices import register_with_atlas as _register_practices  # noqa: E402

_register_practices()
