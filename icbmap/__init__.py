"""icbmap: redraw NHS England's integrated care board geography."""

__version__ = "0.1.0"

# The atlas layer calls the GP practices and NHS trusts code through icbmap.atlas.hooks (it
# imports nothing above itself); register them here, practices first, so every caller of the
# atlas gets them. Cheap: no pandas.
from icbmap.practices import register_with_atlas as _register_practices  # noqa: E402
from icbmap.trusts import register_with_atlas as _register_trusts  # noqa: E402

_register_practices()
_register_trusts()
