"""The desktop app (PySide6): the main window and its window-wide parts; features in rooms (map, options, principles, actions, files, dialogs)."""
