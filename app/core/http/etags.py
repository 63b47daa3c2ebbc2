"""Task: T-111
Spec: specs/features/plugins.md §Conventions

Entity tags for versioned rows (RFC 9110 §8.8.3, §13.1): a row with an `id` and a `version`
that moves on every change has the strong tag `"<id>.<version>"`. `If-Match` uses strong
comparison, `If-None-Match` weak comparison.

`matching_versions` turns `If-Match` into the versions a write may match, so the precondition
becomes part of the write itself (`AND version = ANY(:versions)`) and costs no round trip.
"""


def etag(id: str, version: int) -> str:
    return f'"{id}.{version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def matching_versions(header: str | None, id: str) -> list[int] | None:
    """The versions of row `id` that `If-Match` accepts; None when any will do (no header, or
    `*`). A tag of another row, or a weak tag, accepts none."""
    if header is None:
        return None
    tags = _tags(header)
    if "*" in tags:
        return None
    versions = []
    for tag in tags:
        tag_id, _, version = tag.strip('"').rpartition(".")
        if tag.startswith('"') and tag_id == id and version.isdigit():
            versions.append(int(version))
    return versions


def if_match_fails(header: str | None, id: str, version: int) -> bool:
    """True when an `If-Match` header is present and names no current tag (→ 412)."""
    versions = matching_versions(header, id)
    return versions is not None and version not in versions


def if_none_match_hits(header: str | None, id: str, version: int) -> bool:
    """True when an `If-None-Match` header names the current tag (→ 304)."""
    if header is None:
        return False
    current = etag(id, version)
    return any(tag in {"*", current, f"W/{current}"} for tag in _tags(header))
