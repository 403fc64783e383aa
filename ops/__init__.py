"""Operators' tools: readable workflow histories, replay checks of a release, health checks,
staff accounts from the command line."""
