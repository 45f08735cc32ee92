"""Elasticsearch requests as they go over the wire, and the privileges each one needs.

``RecordingProxy`` sits between Gleaner's processes and a real Elasticsearch node and keeps every
request (method, path, body), optionally serving TLS. ``requirements`` maps a request to the
security privileges Elasticsearch checks for it (Elasticsearch's "Security privileges" reference:
cluster and index privileges and the actions they grant); ``least_privilege`` checks a role
against the requirements of what was recorded. A request this table does not know fails the test:
a new kind of request must be looked up and added, never passed over.
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    body: bytes


class RecordingProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def record(self, item: Recorded) -> None:
        with self._lock:
            self.requests.append(item)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingProxy

    def log_message(self, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.record(Recorded(self.command, self.path, body))
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.send_response(resp.status)
        for key, value in resp.getheaders():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


# --- privileges -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    """One privilege check: on the cluster (``target`` None) or on an index name. ``privileges``
    are the privileges that grant the action, the least one first."""

    action: str
    target: str | None
    privileges: tuple[str, ...]

    @property
    def least(self) -> str:
        return self.privileges[0]


_INDEX_WRITE = ("index", "write", "all")
_CREATE_DOC = ("create_doc", "create", "index", "write", "all")
_DELETE_DOC = ("delete", "write", "all")
_READ = ("read", "all")
_VIEW_META = ("view_index_metadata", "manage", "all")
_MANAGE = ("manage", "all")
_MONITOR_INDEX = ("monitor", "manage", "all")
_CLUSTER_MONITOR = ("monitor", "manage", "all")
_BULK_OPS = {"index": ("indices:data/write/index", _INDEX_WRITE), "create": ("indices:data/write/index", _CREATE_DOC),
             "update": ("indices:data/write/update", _INDEX_WRITE), "delete": ("indices:data/write/delete", _DELETE_DOC)}


def _bulk(default_index: str | None, body: bytes) -> list[Requirement]:
    lines = [line for line in body.split(b"\n") if line.strip()]
    found: list[Requirement] = []
    i = 0
    while i < len(lines):
        op, meta = next(iter(json.loads(lines[i]).items()))
        action, privileges = _BULK_OPS[op]
        found.append(Requirement(action, meta.get("_index", default_index), privileges))
        i += 1 if op == "delete" else 2
    return found


def requirements(request: Recorded) -> list[Requirement]:
    """The privilege checks Elasticsearch makes for ``request``; KeyError for an unknown request."""
    path = urlsplit(request.path).path
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    method = request.method
    first = parts[0] if parts else ""
    if not parts:
        return [Requirement("cluster:monitor/main", None, _CLUSTER_MONITOR)]
    if parts[-1] == "_bulk":
        return _bulk(parts[0] if len(parts) == 2 else None, request.body)
    if first == "_cluster" and parts[1:2] == ["health"]:
        return [Requirement("cluster:monitor/health", None, _CLUSTER_MONITOR)]
    if first == "_index_template" and method == "PUT":
        return [Requirement("indices:admin/index_template/put", None, ("manage_index_templates", "manage", "all"))]
    if first == "_alias" and method in ("GET", "HEAD"):
        return [Requirement("indices:admin/aliases/get", name, _VIEW_META) for name in parts[1].split(",")]
    if first == "_search" and parts[1:2] == ["scroll"]:
        return []  # a scroll is its owner's: no privilege is checked again
    if not first.startswith("_"):
        indices = first.split(",")
        rest = parts[1:]
        if not rest and method == "HEAD":
            return [Requirement("indices:admin/get", i, _VIEW_META) for i in indices]
        if not rest and method == "PUT":
            found = [Requirement("indices:admin/create", i, ("create_index", "manage", "all")) for i in indices]
            aliases = json.loads(request.body or b"{}").get("aliases", {})
            # Creating an index with aliases also needs `manage` on the index and the aliases.
            found += [Requirement("indices:admin/aliases", name, _MANAGE) for name in [*indices, *aliases]]
            return found
        if rest[:1] == ["_alias"] and method in ("GET", "HEAD"):
            return [Requirement("indices:admin/aliases/get", i, _VIEW_META) for i in indices]
        if rest == ["_settings"] and method == "PUT":
            return [Requirement("indices:admin/settings/update", i, _MANAGE) for i in indices]
        if rest[:1] == ["_stats"]:
            return [Requirement("indices:monitor/stats", i, _MONITOR_INDEX) for i in indices]
        if rest[:1] in (["_search"], ["_count"]):
            return [Requirement(f"indices:data/read/{rest[0][1:]}", i, _READ) for i in indices]
        if rest == ["_refresh"]:
            return [Requirement("indices:admin/refresh", i, ("maintenance", "manage", "all")) for i in indices]
        if rest[:1] == ["_doc"] and method in ("PUT", "POST"):
            return [Requirement("indices:data/write/index", i, _INDEX_WRITE) for i in indices]
    raise KeyError(f"no privilege known for {method} {request.path}: look it up and add it to tests/es_requests.py")


def _entries(role: dict[str, Any], target: str) -> list[dict[str, Any]]:
    return [e for e in role.get("indices", []) if any(fnmatch.fnmatchcase(target, n) for n in e["names"])]


def missing_privileges(role: dict[str, Any], needed: list[Requirement]) -> list[Requirement]:
    """The requirements that ``role`` does not grant."""
    missing = []
    for req in needed:
        if req.target is None:
            granted = set(role.get("cluster", []))
        else:
            granted = {p for e in _entries(role, req.target) for p in e["privileges"]}
        if not granted & set(req.privileges):
            missing.append(req)
    return missing


def unneeded_privileges(role: dict[str, Any], needed: list[Requirement]) -> list[str]:
    """Privileges of ``role`` that no requirement needs as its least privilege: more than needed."""
    extra = [f"cluster:{p}" for p in role.get("cluster", [])
             if not any(r.target is None and r.least == p for r in needed)]
    for entry in role.get("indices", []):
        for privilege in entry["privileges"]:
            if not any(r.target is not None and r.least == privilege and
                       any(fnmatch.fnmatchcase(r.target, n) for n in entry["names"]) for r in needed):
                extra.append(f"{entry['names']}:{privilege}")
    return extra
