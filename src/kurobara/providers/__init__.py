"""Providers: one interface over many manga sites, defined as data (built-in + user file)."""
