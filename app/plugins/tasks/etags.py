"""Task: T-037
Spec: specs/api/rest-endpoints.md §Tasks

Entity tags. A task's tag is strong and derived from its id and version, which moves on every
change; `If-Match` uses strong comparison, `If-None-Match` weak comparison (RFC 9110 §13.1).
"""

from app.plugins.tasks.models import Task


def etag(task: Task) -> str:
    return f'"{task.id}.{task.version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_fails(header: str | None, task: Task) -> bool:
    """True when an `If-Match` header is present and names no current tag (→ 412)."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" not in tags and etag(task) not in tags


def if_none_match_hits(header: str | None, task: Task) -> bool:
    """True when an `If-None-Match` header names the current tag (→ 304)."""
    if header is None:
        return False
    current = etag(task)
    return any(tag in {"*", current, f"W/{current}"} for tag in _tags(header))
