"""One series on several sources: linking, match suggestions, merged chapter lists, fallback to
a healthy source, and migration proposals when a provider dies (docs/failover.md)."""
