"""Task: T-112, T-113, T-405
Spec: specs/features/plugins.md §Testing

The test kit for plugin authors (and this project's own tests). Its fixtures come with
`todo-api` (the pytest plugin `app.testing.plugin`); the helpers are imported from here, `app.testing`.
"""

from app.testing.client import AppClient, serving
from app.testing.database import TEST_SECRET, settings_for
from app.testing.isolation import (
    Isolation,
    Scoped,
    Share,
    Unshare,
    assert_isolated,
    assert_scoped,
    owned_digests,
)
from app.testing.statements import Statements
from app.testing.users import ApiUser, MakeUser, sign_up
from app.testing.waiting import eventually

__all__ = [
    "TEST_SECRET",
    "ApiUser",
    "AppClient",
    "Isolation",
    "MakeUser",
    "Scoped",
    "Share",
    "Statements",
    "Unshare",
    "assert_isolated",
    "assert_scoped",
    "eventually",
    "owned_digests",
    "serving",
    "settings_for",
    "sign_up",
]
