"""`python -m generator` runs the protocmc command line."""

from generator.cli import run

run()
