"""Persistence: models, engines and sessions, field encryption, queries and migrations."""
