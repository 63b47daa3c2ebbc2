"""Task: T-037
Spec: specs/api/rest-endpoints.md §Tasks

Entity tags. A task's tag is strong and derived from its id and version, which moves on every
change; `If-Match` uses strong comparison, `If-None-Match` weak comparison (RFC 9110 §13.1).

`If-Match` becomes a condition of the write itself (`AND version = ANY(:versions)`), so checking
it costs no round trip of its own.
"""

from collections.abc import Mapping
from typing import Any


def etag(task: Mapping[str, Any]) -> str:
    return f'"{task["id"]}.{task["version"]}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def matching_versions(header: str | None, task_id: str) -> list[int] | None:
    """The versions of task `task_id` that `If-Match` accepts; None when any will do (no header,
    or `*`). A tag of another task, or a weak tag, accepts none."""
    if header is None:
        return None
    tags = _tags(header)
    if "*" in tags:
        return None
    versions = []
    for tag in tags:
        tag_id, _, version = tag.strip('"').rpartition(".")
        if tag.startswith('"') and tag_id == task_id and version.isdigit():
            versions.append(int(version))
    return versions


def if_match_fails(header: str | None, task: Mapping[str, Any]) -> bool:
    """True when an `If-Match` header is present and names no current tag (→ 412)."""
    versions = matching_versions(header, task["id"])
    return versions is not None and task["version"] not in versions


def if_none_match_hits(header: str | None, task: Mapping[str, Any]) -> bool:
    """True when an `If-None-Match` header names the current tag (→ 304)."""
    if header is None:
        return False
    current = etag(task)
    return any(tag in {"*", current, f"W/{current}"} for tag in _tags(header))
