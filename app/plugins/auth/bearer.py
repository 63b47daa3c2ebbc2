"""Task: T-106, T-383
Spec: specs/features/authentication.md §Logout

What the request's access token says beyond its user: whether it is one of ours (a local
account's) and which session it belongs to. The token was verified on the way in.
"""

from typing import Any

from fastapi import Request

from app.core import bearer_token
from app.plugins.auth.tokens import LOCAL_ISSUER, unverified


def presented_claims(request: Request) -> dict[str, Any] | None:
    """The claims of the request's access token, read without verifying it again (the kernel
    did, on the way in); None when it is no JWT."""
    parts = unverified(bearer_token(request))
    return None if parts is None else parts[1]


def local_claims(request: Request) -> dict[str, Any] | None:
    """The claims of the request's access token when it is one of ours (a local account's),
    else None (a Better Auth token)."""
    claims = presented_claims(request)
    return claims if claims is not None and claims.get("iss") == LOCAL_ISSUER else None


def session_of(request: Request) -> str | None:
    """The session (refresh-token family) the request's access token belongs to: its `sid`.
    Only one of ours, from login or refresh, names one."""
    session = (local_claims(request) or {}).get("sid")
    return session if isinstance(session, str) else None
