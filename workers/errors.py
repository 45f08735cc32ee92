"""Errors a stage raises for a page that can never succeed (recorded, not retried)."""


class PermanentPageError(Exception):
    """The page itself is at fault: retrying cannot help.

    ``code`` is a short stable identifier (``empty_after_cleaning``, ``undecodable``...) used to
    group failures; the message is the human-readable reason.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
