"""The app's dialogs: common helpers, data, suggest, about and the quit question about unsaved work."""
