"""icbmap: redraw NHS England's integrated care board geography."""

__version__ = "0.1.0"
