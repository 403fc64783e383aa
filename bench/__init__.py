"""Benchmarks: scripts that print figures about this machine (not tests; run them by hand)."""
