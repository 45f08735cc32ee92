"""Readers that turn the producer's inputs into raw pages (``iter_inputs``)."""

from workers.inputs.items import Item, Skipped
from workers.inputs.paths import iter_inputs

__all__ = ["Item", "Skipped", "iter_inputs"]
