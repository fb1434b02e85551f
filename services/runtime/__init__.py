"""Plumbing that keeps work alive or accounts for it: the parser sandbox, storage paths, queues, heartbeats,
housekeeping, retries, the worker entry (and the object store issue 12 wires in)."""
