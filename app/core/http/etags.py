"""Task: T-111, T-258
Spec: specs/features/plugins.md §Conventions; specs/api/rest-endpoints.md §ETags and concurrency

Entity tags for versioned rows (`"<id>.<version>"`) and the `If-Match`/`If-None-Match` checks.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from app.core.http.problems import invalid

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (no space, no ").
_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
# A list's elements are parted by commas with optional whitespace; empty elements are allowed
# (RFC 9110 §5.6.1), so `"a", , "b"` is two tags.
ENTITY_TAGS_PATTERN = rf"^[ \t]*(?:\*|[ \t,]*{_TAG}(?:[ \t]*,[ \t,]*{_TAG})*[ \t,]*)[ \t]*$"
MALFORMED = 'must be * or a comma-separated list of quoted entity tags ("…" or W/"…")'
_ENTITY_TAGS = re.compile(ENTITY_TAGS_PATTERN)
_ONE_TAG = re.compile(_TAG)


def etag(id: str, version: int) -> str:
    return f'"{id}.{version}"'


def _tags(header: str, name: str) -> list[str]:
    """The tags header `name` lists (`["*"]` for `*`); any other shape is a 422 naming it."""
    if not _ENTITY_TAGS.fullmatch(header):
        raise invalid(("header", name), MALFORMED)
    return ["*"] if header.strip(" \t") == "*" else _ONE_TAG.findall(header)


def _checked(value: str) -> str:
    if not _ENTITY_TAGS.fullmatch(value):
        raise ValueError(MALFORMED)
    return value


# A body field in `If-Match` syntax (a batch operation's `if_match`): a 422 naming the field
# when malformed, so the helpers below never meet it malformed.
EntityTags = Annotated[
    str, AfterValidator(_checked), Field(json_schema_extra={"pattern": ENTITY_TAGS_PATTERN})
]


def matching_versions(header: str | None, id: str) -> list[int] | None:
    """The versions of row `id` that `If-Match` accepts; None when any will do (no header, or
    `*`). A tag of another row, or a weak tag, accepts none; a malformed header is a 422."""
    if header is None:
        return None
    tags = _tags(header, "If-Match")
    if tags == ["*"]:
        return None
    versions = []
    for tag in tags:
        tag_id, _, version = tag.strip('"').rpartition(".")
        if tag.startswith('"') and tag_id == id and version.isdigit():
            versions.append(int(version))
    return versions


def if_match_fails(header: str | None, id: str, version: int) -> bool:
    """True when an `If-Match` header is present and names no current tag (→ 412); a
    malformed one is a 422."""
    versions = matching_versions(header, id)
    return versions is not None and version not in versions


def if_none_match_hits(header: str | None, id: str, version: int) -> bool:
    """True when an `If-None-Match` header names the current tag of row `id` (→ 304); a
    malformed one is a 422."""
    return if_none_match_names(header, etag(id, version))


def if_none_match_names(header: str | None, current: str) -> bool:
    """True when an `If-None-Match` header names `current`, any tag a route sends (compared
    weakly, RFC 9110 §13.1.2), or is `*` (→ 304); a malformed one is a 422."""
    if header is None:
        return False
    return any(tag in {"*", current, f"W/{current}"} for tag in _tags(header, "If-None-Match"))
