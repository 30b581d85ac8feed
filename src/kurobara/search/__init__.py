"""Search across providers: the service that asks them at once under learned deadlines, the
API routes (``/search`` and its streaming twin) and their shapes. It uses ``providers`` (to ask)
and ``monitoring`` (what to skip, failures as evidence); neither of them imports it."""
