"""Textual screens of csirt-desk (one file per screen). Screens talk to the
core API (``csirt_tui.store.Store`` and friends), never to TinyDB."""
