"""`make bench`: the benchmarks (see docs/benchmarks.md)."""

# First, as in every process of ours: `intake` installs the speed patches INTAKE_SPEEDUPS asks for
# (intake.speedups), the first of which must precede aiogram's import. The `speedups` part compares
# each patch with the stock library inside one run.
import intake  # noqa: F401
