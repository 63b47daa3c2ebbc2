"""Task: T-100, T-386, T-392
Spec: specs/features/authentication.md §Throttling

Login throttling that holds under parallel guesses, on every instance, and is fair to people
who share an address.

Every attempt is counted *before* its password is checked, by one statement that counts and
answers (`_ATTEMPT`): an upsert of a counter row per key, serialised by the row's lock, so a
hundred guesses sent at once are counted one after another whichever instance takes them. Two
keys per attempt:

- `email:<address>;ip:<client>`, this account from this address: `max_failed_logins`;
- `email:<address>`, this account from anywhere: `max_failed_logins_per_account`, higher, so a
  distributed guesser is bounded too while one address alone cannot lock the owner out.

No key is the address alone: behind a NAT many people share one, and their failures must never
refuse somebody else's correct password.

The attempt that goes past a limit is refused and starts a lockout of `lockout_seconds`. When
it ends, one more attempt is let through; the next refusal doubles the lockout, up to
`max_lockout_seconds`. An attempt refused by a lockout already in place counts nowhere. A
successful login deletes both counters; a counter is forgotten `failed_login_window_seconds`
after its last attempt or lockout, and each attempt deletes a few such expired counters of other
keys, so the table stays small.
"""

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import (
    ARRAY,
    CTE,
    BindParameter,
    Integer,
    Text,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import insert

from app.core import Database, Executor
from app.plugins.auth.models import LoginFailure
from app.plugins.auth.settings import AuthSettings

# Times come from the database's clock, so instances with skewed clocks agree on lockouts.
NOW = func.now()
SECOND = literal_column("interval '1 second'")
PAIR, ACCOUNT = bindparam("pair"), bindparam("account")
WINDOW = bindparam("window", type_=Integer) * SECOND
FIRST_LOCKOUT = bindparam("lockout", type_=Integer)
LONGEST_LOCKOUT = bindparam("max_lockout", type_=Integer)
# Lockouts double at most this many times (2**30 s is decades): power() never overflows.
MAX_DOUBLINGS = 30
# Expired counters of other keys that one attempt deletes.
PURGE_BATCH = 2


def _count(name: str, key: BindParameter[Any], limit: BindParameter[Any], go: Any) -> CTE:
    """Count an attempt on `key` when the condition `go` holds. The CTE returns the counter's
    `blocked_until`: NULL when the attempt may proceed, else the end of the lockout refusing it.
    """
    stale = LoginFailure.expires_at <= NOW
    locked = LoginFailure.blocked_until > NOW
    attempts = case((stale, 1), else_=LoginFailure.attempts + 1)
    lockouts = case((stale, 0), else_=LoginFailure.lockouts)
    over = attempts > limit
    lockout = func.least(
        LONGEST_LOCKOUT, FIRST_LOCKOUT * func.power(2, func.least(lockouts, MAX_DOUBLINGS))
    )
    until = NOW + lockout * SECOND
    first = select(key, literal(1), literal(0), null(), NOW + WINDOW).where(go)
    upsert = insert(LoginFailure).from_select(
        ["key", "attempts", "lockouts", "blocked_until", "expires_at"], first
    )
    # A counter still locked (by an attempt that committed after this statement's snapshot)
    # stays as it is: the attempt is refused and counts nowhere. Past the limit, the count is
    # set back by one, so that the attempt after the lockout is let through and the one after
    # that locks again, for twice as long.
    return (
        upsert.on_conflict_do_update(
            index_elements=[LoginFailure.key],
            set_={
                "attempts": case(
                    (locked, LoginFailure.attempts), (over, limit - 1), else_=attempts
                ),
                "lockouts": case(
                    (locked, LoginFailure.lockouts), (over, lockouts + 1), else_=lockouts
                ),
                "blocked_until": case(
                    (locked, LoginFailure.blocked_until), (over, until), else_=null()
                ),
                "expires_at": case(
                    (locked, LoginFailure.expires_at), (over, until + WINDOW), else_=NOW + WINDOW
                ),
            },
        )
        .returning(LoginFailure.blocked_until)
        .cte(name)
    )


def _attempt() -> Any:
    keys = [PAIR, ACCOUNT]
    # A lockout already visible: nothing is counted, the attempt is refused.
    held = (
        select(func.max(LoginFailure.blocked_until).label("until"))
        .where(LoginFailure.key.in_(keys), LoginFailure.blocked_until > NOW)
        .cte("held")
    )
    # The stricter key first; the account counts only attempts this address may make, so an
    # address hammering at its own lockout does not use up everybody's attempts.
    pair = _count("pair", PAIR, bindparam("pair_limit", type_=Integer), held.c.until.is_(None))
    account = _count(
        "account",
        ACCOUNT,
        bindparam("account_limit", type_=Integer),
        pair.c.blocked_until.is_(None),
    )
    expired = (
        select(LoginFailure.key)
        .where(LoginFailure.expires_at <= NOW, LoginFailure.key.not_in(keys))
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    purge = (
        delete(LoginFailure)
        .where(LoginFailure.key.in_(expired.scalar_subquery()))
        .returning(LoginFailure.key)
        .cte("purge")
    )
    until = func.greatest(
        held.c.until,
        select(pair.c.blocked_until).scalar_subquery(),
        select(account.c.blocked_until).scalar_subquery(),
    )
    # Whole seconds until the lockout refusing this attempt ends; NULL: go ahead.
    return select(func.ceil(func.extract("epoch", until - NOW))).add_cte(purge)


_ATTEMPT = _attempt()
_CLEAR = delete(LoginFailure).where(LoginFailure.key.in_([PAIR, ACCOUNT]))


@dataclass(frozen=True)
class Keys:
    """The counters an attempt for `email` from `client` counts on."""

    account: str
    pair: str

    @classmethod
    def of(cls, email: str, client: str | None, action: str = "login") -> "Keys":
        """The counters of `action` on the account with `email`; a login's keys name no action
        (they were named before other actions were counted)."""
        subject = f"email:{email.strip().lower()}"
        return cls.named(subject if action == "login" else f"{action}:{subject}", client)

    @classmethod
    def of_user(cls, user_id: str, client: str | None, action: str) -> "Keys":
        """The counters of `action` on the signed-in user `user_id` (verification, password
        change)."""
        return cls.named(f"{action}:user:{user_id}", client)

    @classmethod
    def named(cls, account: str, client: str | None) -> "Keys":
        """The counters of `account` (an action on one account), alone and from `client`."""
        return cls(account=account, pair=f"{account};ip:{client or 'unknown'}")


async def attempt(
    db: Database,
    config: AuthSettings,
    keys: Keys,
    detail: str = "Too many failed logins; try again later",
) -> None:
    """Count an attempt (a login, a reset …); raise 429 `detail` with `Retry-After` when it
    must not be tried."""
    seconds = await db.fetchval(
        _ATTEMPT,
        pair=keys.pair,
        account=keys.account,
        pair_limit=config.max_failed_logins,
        account_limit=config.max_failed_logins_per_account,
        window=config.failed_login_window_seconds,
        lockout=config.lockout_seconds,
        max_lockout=config.max_lockout_seconds,
        retry=False,  # applied twice, one attempt would count twice
    )
    if seconds is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail,
            headers={"Retry-After": str(max(1, int(seconds)))},
        )


# Every counter of the given accounts, alone and from every address.
_FORGET = delete(LoginFailure).where(
    func.split_part(LoginFailure.key, ";ip:", 1) == any_(bindparam("accounts", type_=ARRAY(Text)))
)
# What a user is counted under: the actions on their email, and on them once signed in.
EMAIL_ACTIONS = ("login", "reset")
USER_ACTIONS = ("verify", "password")


async def forget(db: Executor, email: str | None, user_id: str) -> None:
    """A deleted account: every counter of its email and of its id (logins, resets,
    verifications, password changes), from every address, goes with it."""
    accounts = [Keys.of_user(user_id, None, action).account for action in USER_ACTIONS]
    if email:
        accounts += [Keys.of(email, None, action).account for action in EMAIL_ACTIONS]
    await db.execute(_FORGET, accounts=accounts)


async def clear(db: Database, keys: Keys) -> None:
    """A successful login: this account starts afresh, from this address and from others."""
    await db.execute(_CLEAR, pair=keys.pair, account=keys.account)
