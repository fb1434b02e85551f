"""Plumbing that keeps work alive or accounts for it: queues, heartbeats, housekeeping, retries, the worker entry."""
