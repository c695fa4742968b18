"""The map view and its parts: view, tools, shapes, labels, keyboard cursor, layers."""
