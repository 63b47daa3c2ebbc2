"""Task: T-071
Spec: specs/features/plugins.md §Plugin author API; specs/api/rest-endpoints.md §Headers

Marks a route's endpoint carries for the edge, like `@public`: attributes on the function, read
from `scope["endpoint"]` once the router has matched the request, so they cost nothing until then.

```python
@router.post("/token")
@no_store
async def token(...): ...
```
"""

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


def no_store(endpoint: F) -> F:
    """Answers of this route, errors included, carry `Cache-Control: no-store` (tokens, secrets)."""
    endpoint.__todo_api_no_store__ = True  # type: ignore[attr-defined]
    return endpoint


def is_no_store(endpoint: object) -> bool:
    return getattr(endpoint, "__todo_api_no_store__", False)
