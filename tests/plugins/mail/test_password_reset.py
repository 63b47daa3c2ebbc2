"""Task: T-388
Spec: specs/features/authentication.md §Password reset and email verification

The reset message reaches a real SMTP server through the job queue; its link works once, dies
with its 30 minutes and with a password change, and ends every session. Known and unknown
emails get the same answer in the same time.
"""

import asyncio
import statistics
import time

from tests.plugins.mail.conftest import token_of

AUTH = "/api/v1/auth"
PASSWORD, NEW = "correct horse battery", "a brand new passphrase"


async def account(client, email: str) -> dict:
    assert (
        await client.post(f"{AUTH}/register", json={"email": email, "password": PASSWORD})
    ).status_code == 201
    login = await client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    return login.json()


async def reset_token(client, inbox, email: str, count: int = 1) -> str:
    assert (await client.post(f"{AUTH}/password-reset", json={"email": email})).status_code == 202
    messages = await inbox.wait_for(email, count)
    reset = [m for m in messages if m["Subject"] == "Reset your password"]
    assert reset, [m["Subject"] for m in messages]
    return token_of(reset[-1])


async def test_the_mailed_link_resets_once_and_ends_every_session(mailing, inbox):
    client = await mailing()
    email = "reset-once@example.com"
    session = await account(client, email)
    token = await reset_token(client, inbox, email, count=2)  # the verification, then this
    message = inbox.to(email)[-1]
    assert message["From"] == "Todo <t@x.test>"
    assert "30 minutes" in message.get_payload(decode=True).decode()

    confirm = await client.post(
        f"{AUTH}/password-reset/confirm", json={"token": token, "password": NEW}
    )
    assert confirm.status_code == 204
    again = await client.post(
        f"{AUTH}/password-reset/confirm", json={"token": token, "password": "yet another one"}
    )
    assert again.status_code == 400
    assert again.headers["content-type"].startswith("application/problem+json")

    old = await client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    assert (
        await client.post(f"{AUTH}/login", json={"email": email, "password": NEW})
    ).status_code == 200
    # Every session ended: the refresh token from before is refused.
    refreshed = await client.post(
        f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_an_expired_or_outdated_token_is_a_400(mailing, inbox, db):
    client = await mailing()
    email = "reset-expired@example.com"
    await account(client, email)
    expired = await reset_token(client, inbox, email, count=2)
    await db.execute(
        "UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'reset'"
    )
    body = {"token": expired, "password": NEW}
    assert (await client.post(f"{AUTH}/password-reset/confirm", json=body)).status_code == 400

    # A token issued before the password changed dies with the old password.
    session = (
        await client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
    ).json()
    outdated = await reset_token(client, inbox, email, count=3)
    changed = await client.post(
        f"{AUTH}/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers={"Authorization": f"Bearer {session['access_token']}"},
    )
    assert changed.status_code == 204
    body = {"token": outdated, "password": "yet another one"}
    assert (await client.post(f"{AUTH}/password-reset/confirm", json=body)).status_code == 400
    assert (
        await client.post(f"{AUTH}/login", json={"email": email, "password": NEW})
    ).status_code == 200


async def test_the_token_is_stored_hashed_and_unknown_emails_get_no_mail(mailing, inbox, db):
    client = await mailing()
    email = "reset-hashed@example.com"
    await account(client, email)
    unknown = await client.post(f"{AUTH}/password-reset", json={"email": "nobody-here@example.com"})
    assert unknown.status_code == 202
    token = await reset_token(client, inbox, email, count=2)
    stored = await db.fetch("SELECT token_hash FROM account_tokens")
    assert token not in {row["token_hash"] for row in stored}
    assert inbox.to("nobody-here@example.com") == []


async def test_one_token_sent_at_once_sixty_times_resets_once(mailing, inbox):
    client = await mailing()
    email = "reset-race@example.com"
    await account(client, email)
    token = await reset_token(client, inbox, email, count=2)
    body = {"token": token, "password": NEW}
    answers = await asyncio.gather(
        *(client.post(f"{AUTH}/password-reset/confirm", json=body) for _ in range(60))
    )
    assert sorted(answer.status_code for answer in answers) == [204] + [400] * 59


async def test_a_refused_send_is_retried_by_the_queue(mailing, inbox):
    client = await mailing()
    email = "reset-retried@example.com"
    await account(client, email)
    await inbox.wait_for(email)  # the verification letter
    inbox.refuse = 1  # the server fails the next message temporarily
    assert (await client.post(f"{AUTH}/password-reset", json={"email": email})).status_code == 202
    # The job's first try fails; the queue tries again 10 s later, composing a fresh token.
    [_, message] = await inbox.wait_for(email, 2, seconds=60)
    token = token_of(message)
    body = {"token": token, "password": NEW}
    assert (await client.post(f"{AUTH}/password-reset/confirm", json=body)).status_code == 204


async def test_reset_requests_are_throttled(mailing):
    client = await mailing()
    body = {"email": "throttled@example.com"}
    answers = [
        (await client.post(f"{AUTH}/password-reset", json=body)).status_code for _ in range(7)
    ]
    assert answers[:5] == [202] * 5
    assert answers[5] == 429


async def test_known_and_unknown_emails_take_the_same_time(make_client):
    """The Done-when: the medians of 200 tries each differ by under 10 %. The worker is off
    (nothing runs beside the requests) and the tries alternate, so drift hits both alike."""
    client = await make_client(
        enabled=("health", "auth", "jobs", "mail"),
        tables={
            "jobs": {"worker": False},
            "auth": {"max_failed_logins": 10_000, "max_failed_logins_per_account": 10_000},
        },
    )
    known = "timing-known@example.com"
    assert (
        await client.post(f"{AUTH}/register", json={"email": known, "password": PASSWORD})
    ).status_code == 201
    timings: dict[str, list[float]] = {known: [], "timing-unknown@example.com": []}
    for attempt in range(220):
        # Each goes first every other round: the first of a pair may pay for the second.
        for email, spent in sorted(timings.items(), reverse=attempt % 2 == 1):
            started = time.perf_counter()
            answer = await client.post(f"{AUTH}/password-reset", json={"email": email})
            elapsed = time.perf_counter() - started
            assert answer.status_code == 202
            if attempt >= 20:  # warm-up: caches, prepared statements
                spent.append(elapsed)
    known_median, unknown_median = (statistics.median(spent) for spent in timings.values())
    assert abs(known_median - unknown_median) / min(known_median, unknown_median) < 0.10, (
        known_median,
        unknown_median,
    )
