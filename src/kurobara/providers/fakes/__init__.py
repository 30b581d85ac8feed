"""Local fake provider sites: real HTTP servers on loopback, one per provider kind, with generated
content and fault switches. Used by the tests, the benchmarks and ``kurobara demo``."""
