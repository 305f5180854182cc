"""The voice banking panel: one prompt at a time, one key to drive the whole session."""
