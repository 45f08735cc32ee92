"""URL normalization and the document id derived from it."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_TRACKING_PARAM = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|yclid|_ga|_gl|igshid|ref_src|cmpid|ocid|smid|share)$",
    re.I,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str) -> str | None:
    """Canonical form of an absolute http(s) URL, or None if ``url`` is not one.

    Lower-cased scheme and host, no default port, no fragment, no tracking parameters, sorted
    query, ``/`` for an empty path, percent-encoding made consistent.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAM.match(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def domain_of(url: str | None) -> str | None:
    """Host of ``url`` without a leading ``www.``."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


def document_id(url: str | None, normalized_body: str) -> str:
    """Stable id of a page: from its normalized URL when it has one, else from its content."""
    key = normalize_url(url) if url else None
    material = f"url:{key}" if key else f"content:{normalized_body}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
