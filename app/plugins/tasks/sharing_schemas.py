"""Task: T-330, T-331, T-332
Spec: specs/api/rest-endpoints.md §Sharing; specs/features/sharing.md §Members and invitations

Request and response bodies of the members, invitations and transfer routes. Requests reject
unknown fields (422).
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.core import NO_NUL, documented
from app.plugins.tasks.models import Role
from app.plugins.tasks.schemas import ListRole

# An invitation lives 7 days unless asked otherwise, at least a minute and at most 30 days.
DEFAULT_EXPIRES_IN = 7 * 24 * 3600
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 30 * 24 * 3600
MAX_USES = 1000
# A user's id as the auth plugin stores it (local ids are UUIDs, Better Auth's random strings).
UserId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]

EXAMPLE_USER_ID = "5d7f3a2b-8c1e-4f6a-9b0d-2e3f4a5b6c7d"
EXAMPLE_INVITATION = {
    "id": "1e2d3c4b-5a69-4788-96a5-b4c3d2e1f0a9",
    "role": "editor",
    "expires_at": "2030-01-08T09:30:00Z",
    "max_uses": 5,
    "uses": 1,
    "created_at": "2030-01-01T09:30:00Z",
}
EXAMPLE_TOKEN = "q3Yc0b8Jv1mH2kS9xWfT5nR7uZ4aE6dL0pQ8iG3oK1c"


class MemberOut(BaseModel):
    """Someone who reaches the list: its owner, or a member."""

    model_config = documented(
        {
            "user_id": EXAMPLE_USER_ID,
            "name": "Bob",
            "email": "bob@example.com",
            "role": "editor",
            "joined_at": "2030-01-02T08:15:00Z",
        },
        from_attributes=True,
    )

    user_id: str
    """Their user id."""
    name: str | None
    """Their name, or null when they gave none."""
    email: str | None
    """Their email: shown to the list's owner, and to each person for themself; null otherwise."""
    role: ListRole
    """`owner`, `editor` (writes the list's tasks) or `viewer` (reads them)."""
    joined_at: datetime
    """When they joined it (UTC); the owner's is when the list was made."""


class RoleChange(BaseModel):
    """A member's new role (ownership changes hands with `POST /lists/{id}/transfer`)."""

    model_config = documented({"role": "viewer"}, extra="forbid")

    role: Role
    """`editor` or `viewer`."""


class Transfer(BaseModel):
    """Whom the list is handed over to: one of its members."""

    model_config = documented({"user_id": EXAMPLE_USER_ID}, extra="forbid")

    user_id: UserId
    """The member who becomes its owner; you become an editor."""


class InvitationCreate(BaseModel):
    """A link that makes whoever accepts it a member."""

    model_config = documented(
        {"role": "editor"}, {"role": "viewer", "expires_in": 3600, "max_uses": 5}, extra="forbid"
    )

    role: Role
    """The role it gives: `editor` or `viewer`."""
    expires_in: int = Field(DEFAULT_EXPIRES_IN, ge=MIN_EXPIRES_IN, le=MAX_EXPIRES_IN)
    """Seconds it stays valid: 60 to 2592000 (30 days); 604800 (7 days) when omitted."""
    max_uses: int | None = Field(None, ge=1, le=MAX_USES)
    """How many people may accept it: 1 to 1000; null or omitted: any number until it expires."""


class InvitationOut(BaseModel):
    """An invitation, without its token (shown once, when it is made)."""

    model_config = documented(EXAMPLE_INVITATION, from_attributes=True)

    id: str
    """The invitation's id: revoke it with `DELETE /lists/{id}/invitations/{invitation_id}`."""
    role: Role
    """The role it gives."""
    expires_at: datetime
    """When it stops working (UTC)."""
    max_uses: int | None
    """How many people may accept it; null: any number."""
    uses: int
    """How many have."""
    created_at: datetime
    """When it was made (UTC)."""


class InvitationCreated(InvitationOut):
    """A new invitation, with its token: shown this once, stored only as its SHA-256."""

    model_config = documented(
        {
            **EXAMPLE_INVITATION,
            "uses": 0,
            "token": EXAMPLE_TOKEN,
            "url_path": f"/api/v1/invitations/{EXAMPLE_TOKEN}/accept",
        },
        from_attributes=True,
    )

    token: str
    """The secret that makes a member of whoever has it: send it to the people you invite."""
    url_path: str
    """The path to `POST` to accept it."""
