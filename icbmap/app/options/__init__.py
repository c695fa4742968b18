"""The options workspace: the options, their docks, files and the comparison view."""
