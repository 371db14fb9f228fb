"""Writes of the leads app, by sub-domain: transitions, intake, events, definitions,
idempotency. Interfaces import from the sub-modules."""
