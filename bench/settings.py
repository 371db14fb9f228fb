"""The production settings, plus the bare floor view of the intake benchmark (bench/floor.py)."""

from leadflow.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
