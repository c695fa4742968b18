"""The menus and the actions behind them, one module per menu."""
