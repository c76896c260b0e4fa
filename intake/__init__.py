"""Composition root: settings, the `intake` command line and the wiring of the processes."""

import contextlib

from intake import speedups

# The speed patches, as INTAKE_SPEEDUPS asks: here, because the first must precede aiogram's import.
# A malformed value installs none; loading the settings then stops start-up saying so.
with contextlib.suppress(ValueError):
    speedups.install()
