"""Task: T-106, T-383
Spec: specs/features/authentication.md §Logout

What the request's access token says beyond its user: whether it is one of ours (a local
account's) and which session it belongs to. The token was verified on the way in.
"""

from fastapi import Request

from app.plugins.auth.tokens import LOCAL_ISSUER, unverified


def local_claims(request: Request) -> dict[str, object] | None:
    """The claims of the request's access token when it is one of ours (a local account's),
    else None (a Better Auth token)."""
    _, _, token = request.headers.get("authorization", "").partition(" ")
    parts = unverified(token.strip())
    if parts is None or parts[1].get("iss") != LOCAL_ISSUER:
        return None
    return parts[1]


def session_of(request: Request) -> str | None:
    """The session (refresh-token family) the request's access token belongs to: its `sid`.
    Only one of ours, from login or refresh, names one."""
    session = (local_claims(request) or {}).get("sid")
    return session if isinstance(session, str) else None
