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
from asyncpg.pool import Pool

# Set while the test client's app serves a request; tasks started meanwhile inherit it.
_SERVING: ContextVar[bool] = ContextVar("todo_api_testing_serving", default=False)
# Set while the pool opens a connection and sets it up, or a connection learns a type.
_SETTING_UP: ContextVar[bool] = ContextVar("todo_api_testing_setting_up", default=False)


class Statements(list[str]):
    """The statements the test client's requests sent, in order: `clear()` before the request
    to count, then compare `verbs()` (`["BEGIN", "INSERT", "COMMIT"]`)."""

    def verbs(self) -> list[str]:
        return [statement.split()[0].rstrip(";").upper() for statement in self]


@contextmanager
def serving_a_request() -> Iterator[None]:
    """Mark what is sent meanwhile (in this task, and in the tasks it starts) as a request's."""
    token = _SERVING.set(True)
    try:
        yield
    finally:
        _SERVING.reset(token)


@contextmanager
def counting(everything: bool = False) -> Iterator[Statements]:
    """Count, while inside, what every asyncpg connection sends for a marked request; or, with
    `everything`, whatever it sends (a test of the app's background work itself).

    Setting a connection up does not count: opening it (its type codecs), or learning a type it
    had not met (asyncpg asks PostgreSQL once per connection and type). Which connection a
    request gets, a new one or one that has not met its types yet, depends on what the
    background work held at that moment."""
    sent = Statements()
    counting_methods: tuple[tuple[type, str], ...] = (
        (Connection, "_do_execute"),
        (Connection, "execute"),
    )
    setting_up: tuple[tuple[type, str], ...] = (
        (Pool, "_get_new_connection"),
        (Connection, "_introspect_types"),
        (Connection, "_introspect_type"),
    )
    original = {(kind, name): getattr(kind, name) for kind, name in counting_methods + setting_up}

    def counted() -> bool:
        return everything or (_SERVING.get() and not _SETTING_UP.get())

    async def do_execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if counted():
            sent.append(query)
        return await original[Connection, "_do_execute"](self, query, *args, **kwargs)

    async def execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        # With arguments it goes through _do_execute, counted there.
        if not args and counted():
            sent.append(query)
        return await original[Connection, "execute"](self, query, *args, **kwargs)

    def set_up(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def uncounted(*args: Any, **kwargs: Any) -> Any:
            token = _SETTING_UP.set(True)
            try:
                return await method(*args, **kwargs)
            finally:
                _SETTING_UP.reset(token)

        return uncounted

    for (kind, name), method in zip(counting_methods, (do_execute, execute), strict=True):
        setattr(kind, name, method)
    for kind, name in setting_up:
        setattr(kind, name, set_up(original[kind, name]))
    try:
        yield sent
    finally:
        for (kind, name), method in original.items():
            setattr(kind, name, method)
