"""Task: T-232
Spec: specs/features/plugins.md §Testing

The statements a test's requests send to PostgreSQL, counted at the driver (asyncpg).

Only what is sent while the test client's app serves a request counts, with the tasks that
request starts: work the app started on its own (the job worker's polling, after-commit
consumers, purges) shares the pool, and counting it made a count depend on timing.
"""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from asyncpg.connection import Connection

# Set while the test client's app serves a request; tasks started meanwhile inherit it.
_SERVING: ContextVar[bool] = ContextVar("todo_api_testing_serving", default=False)

Asgi = Callable[..., Awaitable[None]]


class Statements(list[str]):
    """The statements the test client's requests sent, in order: `clear()` before the request
    to count, then compare `verbs()` (`["BEGIN", "INSERT", "COMMIT"]`)."""

    def verbs(self) -> list[str]:
        return [statement.split()[0].rstrip(";").upper() for statement in self]


def marking(app: Asgi) -> Asgi:
    """`app`, with what it sends while serving an HTTP request marked as the request's."""

    async def serve(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        token = _SERVING.set(True)
        try:
            await app(scope, receive, send)
        finally:
            _SERVING.reset(token)

    return serve


@contextmanager
def counting() -> Iterator[Statements]:
    """Count, while inside, what every asyncpg connection sends for a marked request."""
    sent = Statements()
    original = {name: getattr(Connection, name) for name in ("_do_execute", "execute")}

    async def do_execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if _SERVING.get():
            sent.append(query)
        return await original["_do_execute"](self, query, *args, **kwargs)

    async def execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if _SERVING.get() and not args:  # with arguments it goes through _do_execute
            sent.append(query)
        return await original["execute"](self, query, *args, **kwargs)

    counted = {"_do_execute": do_execute, "execute": execute}
    for name, method in counted.items():
        setattr(Connection, name, method)
    try:
        yield sent
    finally:
        for name, method in original.items():
            setattr(Connection, name, method)
