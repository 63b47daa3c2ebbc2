"""Task: T-106
Spec: specs/features/plugins.md §Plugin author API

`NO_NUL`: refuses the NUL character PostgreSQL `text` cannot hold, before it reaches a statement.
"""

NO_NUL = r"^[^\x00]*$"
