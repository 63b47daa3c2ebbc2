"""Task: T-016
Spec: specs/features/plugins.md §Testing

Small plugin objects the kernel tests register through `load(..., extra=...)`.
"""

from collections.abc import Sequence

import click
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from app.core import (
    DB,
    AuthenticationError,
    Context,
    CurrentUser,
    Database,
    Principal,
    body_limit,
    hookimpl,
    public,
)
from app.core.http.principal import Authenticator

# Secrets the probe's failures carry, which no log may show.
PASSWORD = "hunter2-never-logged"
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLW5ldmVyLWxvZ2dlZA"


class TokenAuth:
    """Vouches for `good-<id>`; refuses `expired`; leaves anything else to others."""

    @hookimpl
    def authenticator(self, context: Context) -> Authenticator:
        async def authenticate(token: str, db: Database) -> Principal | None:
            if token == "expired":
                raise AuthenticationError("Token expired")
            if token.startswith("good-"):
                return Principal(id=token.removeprefix("good-"))
            return None

        return authenticate


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = 10


class Probe:
    """Routes for the kernel's own behaviour: who calls from where, a crash, bodies."""

    @hookimpl
    def routers(self, context: Context) -> Sequence[APIRouter]:
        router = APIRouter(prefix="/probe")

        @router.get("/whoami")
        async def whoami(user: CurrentUser) -> dict[str, str]:
            return {"id": user.id}

        @router.get("/implicit")
        async def implicit() -> dict[str, str]:
            # Asks for no user at all: the kernel must protect it anyway.
            return {"ok": "yes"}

        @router.get("/open")
        @public
        async def open_page() -> dict[str, str]:
            return {"ok": "yes"}

        @router.get("/client")
        @public
        async def client(request: Request) -> dict[str, str | None]:
            return {"host": request.client.host if request.client else None}

        @router.get("/crash")
        @public
        async def crash() -> None:
            try:
                raise ValueError(f"refused Authorization: Bearer {TOKEN}; stored {HASH}")
            except ValueError as exc:
                raise RuntimeError(f"secret internals: password={PASSWORD}") from exc

        @router.get("/bad-query")
        @public
        async def bad_query(db: DB) -> None:
            await db.fetch(text("SELECT CAST(:n AS integer)"), n=PASSWORD)

        @router.post("/strict")
        @public
        async def strict(body: Strict) -> Strict:
            return body

        @router.post("/tiny")
        @public
        @body_limit(16)
        async def tiny(body: Strict) -> Strict:
            return body

        @router.post("/roomy")
        @public
        @body_limit(5000)
        async def roomy(body: dict[str, str]) -> int:
            return len(body)

        return [router]


class Configurable:
    @hookimpl
    def settings_model(self) -> type[BaseModel]:
        return Strict


class Misspelled:
    @hookimpl
    def routerz(self, context: Context) -> Sequence[APIRouter]:
        return []


class Failing:
    @hookimpl
    def readiness_checks(self, context: Context):  # type: ignore[no-untyped-def]
        async def queue(db: Database) -> str | None:
            return "queue backlog too long"

        return [queue]


class Greeter:
    """Adds `todo-api hello` to the command line."""

    @hookimpl
    def cli_commands(self) -> Sequence[click.Command]:
        @click.command()
        def hello() -> None:
            click.echo("hello from a plugin")

        return [hello]
