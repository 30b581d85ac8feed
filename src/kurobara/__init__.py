"""Kurobara: a self-hosted manga server that always knows which providers work right now."""

__version__ = "0.1.0"
