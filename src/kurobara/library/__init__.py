"""Library entries and favorites (a favorite is an entry with ``is_favorite``)."""
