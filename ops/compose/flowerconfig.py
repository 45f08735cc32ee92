"""Flower's settings in compose (``celery flower --conf=ops/compose/flowerconfig.py``).

The basic-auth credentials come from the environment (``FLOWER_USER``, ``FLOWER_PASSWORD``), not
from Flower's command line (visible in ``ps``) nor ``FLOWER_BASIC_AUTH`` (Flower splits that at
commas). Any printable password works; the example value is refused.
"""

import os as _os

_user = _os.environ.get("FLOWER_USER", "admin")
_password = _os.environ.get("FLOWER_PASSWORD", "")
if not _password or _password.lower().startswith("change-me"):
    raise SystemExit("flower refused to start: set FLOWER_PASSWORD in .env (not the example value)")
if not _user or ":" in _user:
    raise SystemExit("flower refused to start: FLOWER_USER must be set and may not contain ':' (HTTP basic auth)")

basic_auth = [f"{_user}:{_password}"]
port = int(_os.environ.get("FLOWER_PORT", "5555"))
