"""OPDS 1.2 catalog of a user's library (``/opds``) with OPDS-PSE page streaming."""
