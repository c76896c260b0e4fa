"""Composition root: settings, the `intake` command line and the wiring of the processes."""
