"""Task: T-106
Spec: specs/features/plugins.md §Plugin author API

PostgreSQL `text` cannot hold the NUL character: a string carrying one fails in the database, a
500, unless it is refused first. Every request field that may reach a statement as text says
`pattern=NO_NUL` (pydantic's `StringConstraints` or `Field`), so a NUL is a 422 naming it.
"""

NO_NUL = r"^[^\x00]*$"
