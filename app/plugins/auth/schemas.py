"""Task: T-029, T-106
Spec: specs/api/rest-endpoints.md §Auth

Request and response bodies of `/api/v1/auth`.
"""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core import NO_NUL

# Deliberately loose: the only real check of an address is a mail delivered to it.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


# Every string here may reach PostgreSQL (a password only hashed, but one rule for all): no NUL.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=NO_NUL),
    AfterValidator(_email),
    # Documented as an email, so that clients and generated tests send one.
    Field(json_schema_extra={"format": "email"}),
]
Password = Annotated[str, Field(min_length=8, max_length=128, pattern=NO_NUL)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Registration(Strict):
    email: Email
    password: Password
    name: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL),
        ]
        | None
    ) = None


class Credentials(Strict):
    email: Email
    # Not length-checked: a wrong password of any length is a 401, like any other.
    password: Annotated[str, Field(max_length=1024, pattern=NO_NUL)]


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]


class LogoutRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    all: bool = False


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str | None
    name: str | None
    created_at: datetime
