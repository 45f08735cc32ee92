"""Kept for the stage packages being rewritten in other branches: the error tree is ``workers/errors.py``."""

from workers.errors import PermanentPageError

__all__ = ["PermanentPageError"]
