"""Downloads for offline reading: chapters queued by users (or their auto-download rule),
fetched into CBZ files by the ``Downloader`` and read from there first."""
