"""``gleaner schemas`` (hidden): the message JSON Schemas in ``schemas/messages/``."""

from __future__ import annotations

from workers.cli.output import err


def schemas() -> None:
    """Write the message JSON Schemas to schemas/messages/."""
    from workers.schemas import export_message_schemas

    for path in export_message_schemas():
        err.print(f"wrote {path}")
