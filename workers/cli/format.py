"""Numbers, sizes, durations and times as the command line writes them (pure)."""

from __future__ import annotations

import re
import time
from datetime import datetime


def fmt_int(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"  # pragma: no cover


def fmt_rate(per_s: float | None, unit: str = "/s") -> str:
    """``1,234/s``, ``12.3/s``, ``0.05/s``; ``-`` when unknown."""
    if per_s is None:
        return "-"
    if per_s >= 100:
        return f"{per_s:,.0f}{unit}"
    if per_s >= 10:
        return f"{per_s:.1f}{unit}"
    return f"{per_s:.2f}{unit}"


def fmt_duration(seconds: float | None) -> str:
    """``0:00:07``, ``1:02:03``, ``2d 03:04:05``; ``-`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def fmt_elapsed(seconds: float) -> str:
    """``3.2s``, ``2m 05s``, ``1h 02m``: a duration for a summary line."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"


def fmt_age(then: datetime | float | None, now: float | None = None) -> str:
    """How long ago: ``12s ago``, ``5 min ago``, ``3 h ago``, ``2 days ago``."""
    if then is None:
        return "-"
    ts = then.timestamp() if isinstance(then, datetime) else float(then)
    age = (time.time() if now is None else now) - ts
    if age < 60:
        return f"{max(age, 0):.0f}s ago"
    if age < 3600:
        return f"{age / 60:.0f} min ago"
    if age < 86400 * 2:
        return f"{age / 3600:.0f} h ago"
    return f"{age / 86400:.0f} days ago"


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """One character per value, ``·`` for zero, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return "·" * len(values)
    return "".join("·" if v <= 0 else _SPARKS[min(len(_SPARKS) - 1, int(v / top * (len(_SPARKS) - 1) + 0.5))]
                   for v in values)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def hexdump(data: bytes, width: int = 16, limit: int = 128) -> str:
    lines = []
    for offset in range(0, min(len(data), limit), width):
        chunk = data[offset:offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        chars = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<{width * 3}} {chars}")
    return "\n".join(lines)


def safe_url(url: str) -> str:
    """A URL without its password."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)
