"""Task: T-382, T-383, T-384
Spec: specs/features/authentication.md §Password reset and email verification

One-time account tokens: a password reset (30 minutes) or an email verification (24 hours).

A token is 256 random bits, mailed once and stored only as its sha256 (high-entropy, so a slow
hash adds nothing). It is bound to what it was issued for: a reset token to a digest of the
account's password hash and email, a verification token to the email. Each statement that uses
one marks it used and checks the binding against the account as it is now, in one statement, so
a token is single-use even when presented twice at once (row locks order the two), and dies
when the password (reset) or the email (both) changes — including every other token of the
account that was never used.

Times are the database's clock. Issuing deletes a few tokens expired a day ago, so the table
holds about the tokens of the last day.
"""

import secrets
from typing import Any

from sqlalchemy import TextClause, text

from app.core import Executor, secret_digest
from app.plugins.auth.tokens import LOCAL_ISSUER

RESET, VERIFY = "reset", "verify"
LIFETIME_MINUTES = {RESET: 30, VERIFY: 24 * 60}
# What each kind is bound to, computed from a `users` row.
_BINDING = {
    RESET: "encode(sha256(convert_to(coalesce({u}.password_hash, '') || ' ' || "
    "lower(coalesce({u}.email, '')), 'UTF8')), 'hex')",
    VERIFY: "lower({u}.email)",
}
_PURGE = """purge AS (
    DELETE FROM account_tokens WHERE token_hash IN (
        SELECT token_hash FROM account_tokens WHERE expires_at < now() - interval '1 day'
        LIMIT 2 FOR UPDATE SKIP LOCKED))"""


def _issue(purpose: str, where: str) -> TextClause:
    """Store a token of `purpose` for the local account `where` finds (if any); return its
    email and name."""
    return text(f"""
        WITH target AS (
            SELECT id, email, name, {_BINDING[purpose].format(u="users")} AS binding FROM users
            WHERE issuer = '{LOCAL_ISSUER}' AND email IS NOT NULL AND {where}
        ), issued AS (
            INSERT INTO account_tokens
                (token_hash, user_id, purpose, binding, created_at, expires_at)
            SELECT :token_hash, id, '{purpose}', binding, now(),
                now() + make_interval(mins => {LIFETIME_MINUTES[purpose]})
            FROM target
            RETURNING user_id
        ), {_PURGE}
        SELECT target.email, target.name FROM target JOIN issued ON issued.user_id = target.id
    """)


_ISSUE_RESET = _issue(RESET, "lower(email) = lower(:email) AND password_hash IS NOT NULL")
_ISSUE_VERIFY = _issue(VERIFY, "id = :user_id AND email_verified_at IS NULL")


def _use(purpose: str) -> str:
    """A CTE `used`: the token, live and unused, marked used; its user and binding."""
    return f"""used AS (
        UPDATE account_tokens SET used_at = now()
        WHERE token_hash = :token_hash AND purpose = '{purpose}'
            AND used_at IS NULL AND expires_at > now()
        RETURNING user_id, binding)"""


# Sets the password, counts the mailbox as verified (the link reached it), ends every session.
_RESET = text(f"""
    WITH {_use(RESET)}, changed AS (
        UPDATE users SET password_hash = :password_hash, updated_at = now(),
            email_verified_at = coalesce(email_verified_at, now())
        FROM used
        WHERE users.id = used.user_id AND {_BINDING[RESET].format(u="users")} = used.binding
        RETURNING users.id
    ), ended AS (
        UPDATE refresh_tokens SET revoked_at = now()
        WHERE user_id IN (SELECT id FROM changed) AND revoked_at IS NULL
    )
    SELECT id FROM changed
""")
_VERIFY = text(f"""
    WITH {_use(VERIFY)}
    UPDATE users SET email_verified_at = now(), updated_at = now()
    FROM used WHERE users.id = used.user_id AND {_BINDING[VERIFY].format(u="users")} = used.binding
    RETURNING users.id
""")


async def _issue_token(db: Executor, statement: TextClause, **params: Any) -> Any:
    token = secrets.token_urlsafe(32)
    # Not retried: applied twice, a second token would be stored, never mailed (harmless, but
    # the first one's row would be the one answered).
    found = await db.fetchrow(statement, token_hash=secret_digest(token), retry=False, **params)
    return None if found is None else (token, found["email"], found["name"])


async def issue_reset(db: Executor, email: str) -> tuple[str, str, str | None] | None:
    """A reset token for the local account with `email` (and a password), with the account's
    email and name; None when there is none."""
    return await _issue_token(db, _ISSUE_RESET, email=email)  # type: ignore[no-any-return]


async def issue_verification(db: Executor, user_id: str) -> tuple[str, str, str | None] | None:
    """A verification token for the local account's current email; None when the account has
    none, or it is verified already."""
    return await _issue_token(db, _ISSUE_VERIFY, user_id=user_id)  # type: ignore[no-any-return]


async def reset(db: Executor, token: str, password_hash: str) -> bool:
    """Use reset token `token`: set the password to `password_hash` and end every session.
    False when the token is unknown, used, expired, or its password or email changed."""
    changed = await db.fetchval(
        _RESET, token_hash=secret_digest(token), password_hash=password_hash, retry=False
    )
    return changed is not None


async def verify(db: Executor, token: str) -> bool:
    """Use verification token `token`: the email it was sent to is verified. False when the
    token is unknown, used, expired, or the account's email changed since."""
    return await db.fetchval(_VERIFY, token_hash=secret_digest(token), retry=False) is not None
