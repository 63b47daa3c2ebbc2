"""Task: T-091, T-457
Spec: specs/features/plugins.md §Database

SQLAlchemy statements compiled once into the SQL asyncpg sends.
"""

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import dialect as AsyncpgDialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# SQLAlchemy's asyncpg dialect renders `$1, $2, …` placeholders, as asyncpg wants them.
DIALECT = AsyncpgDialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
# Compiled statements kept per process. Statements built once never leave it; the bound keeps a
# plugin that builds a new statement per request from growing memory without limit.
CACHE_SIZE = 2048


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled statement: its SQL and how named parameters become positional ones."""

    sql: str
    names: tuple[str, ...]
    # Values SQLAlchemy bound itself (`limit(50)`, `version + 1`), used unless overridden.
    defaults: Mapping[str, Any]
    required: frozenset[str]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        missing = self.required - params.keys()
        if missing:
            raise TypeError(f"missing bind parameter(s) {', '.join(sorted(missing))}")
        return [params[name] if name in params else self.defaults[name] for name in self.names]


def compile_statement(statement: ClauseElement) -> Compiled:
    compiled = statement.compile(dialect=DIALECT)
    assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError(
            "expanding IN parameters cannot be compiled once: write "
            "`column == any_(bindparam('name'))` and pass a list"
        )
    names = tuple(compiled.positiontup or ())
    return Compiled(
        sql=compiled.string,
        names=names,
        defaults=compiled.params,
        required=frozenset(name for name in names if compiled.binds[name].required),
    )


class CompiledCache:
    """Compiled statements by statement identity, least recently used first out."""

    def __init__(
        self,
        prepare: Callable[[ClauseElement], ClauseElement] | None = None,
        size: int = CACHE_SIZE,
    ) -> None:
        self._prepare = prepare
        self._size = size
        # id(statement) -> (statement, query): the statement is kept so its id is not reused.
        self._entries: OrderedDict[int, tuple[ClauseElement, Compiled]] = OrderedDict()

    def get(self, statement: ClauseElement) -> Compiled:
        entry = self._entries.get(id(statement))
        if entry is not None and entry[0] is statement:
            # Used again: last out. Without this, a plugin that builds a statement per request
            # would push the hot statements out in turn, to be compiled again.
            self._entries.move_to_end(id(statement))
            return entry[1]
        prepared = self._prepare(statement) if self._prepare else statement
        compiled = compile_statement(prepared)
        self._entries[id(statement)] = (statement, compiled)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return compiled
