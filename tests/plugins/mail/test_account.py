"""Task: T-389
Spec: specs/features/authentication.md §Account changes

Email verification, the setting that requires it, password change, `PATCH /me`, Better Auth
accounts refused, and the log standing in for a mail server.
"""

import logging
import time

from joserfc import jwt
from joserfc.jwk import OctKey

from tests.plugins.mail.conftest import LINK, token_of

AUTH = "/api/v1/auth"
PASSWORD, NEW = "correct horse battery", "a brand new passphrase"
SECRET = "better-auth-shared-secret-of-32-bytes-or-more"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(client, email: str) -> None:
    body = {"email": email, "password": PASSWORD, "name": "Ada"}
    assert (await client.post(f"{AUTH}/register", json=body)).status_code == 201


async def login(client, email: str, password: str = PASSWORD) -> dict:
    answer = await client.post(f"{AUTH}/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_registration_mails_a_verification_link_that_works_once(mailing, inbox):
    client = await mailing()
    email = "verify@example.com"
    await register(client, email)
    [message] = await inbox.wait_for(email)
    assert message["Subject"] == "Confirm your email address"
    session = await login(client, email)
    me = await client.get(f"{AUTH}/me", headers=bearer(session["access_token"]))
    assert me.json()["email_verified"] is False

    token = token_of(message)
    assert (
        await client.post(f"{AUTH}/verify-email/confirm", json={"token": token})
    ).status_code == 204
    assert (
        await client.post(f"{AUTH}/verify-email/confirm", json={"token": token})
    ).status_code == 400
    me = await client.get(f"{AUTH}/me", headers=bearer(session["access_token"]))
    assert me.json()["email_verified"] is True
    # Verified: asking again sends nothing.
    again = await client.post(f"{AUTH}/verify-email", headers=bearer(session["access_token"]))
    assert again.status_code == 202


async def test_a_setting_requires_a_verified_email_before_login(mailing, inbox):
    client = await mailing(auth={"require_verified_email": True})
    email = "must-verify@example.com"
    await register(client, email)
    refused = await client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 403
    assert "not verified" in refused.json()["detail"]
    # A wrong password learns nothing of it.
    wrong = await client.post(f"{AUTH}/login", json={"email": email, "password": "wrong one!"})
    assert wrong.status_code == 401
    messages = await inbox.wait_for(email, 2)  # at registration, and at the refused login
    confirm = await client.post(
        f"{AUTH}/verify-email/confirm", json={"token": token_of(messages[-1])}
    )
    assert confirm.status_code == 204
    await login(client, email)


async def test_a_password_change_ends_every_other_session(mailing):
    client = await mailing()
    email = "change@example.com"
    await register(client, email)
    mine, other = await login(client, email), await login(client, email)
    wrong = await client.post(
        f"{AUTH}/password",
        json={"current_password": "not the password", "new_password": NEW},
        headers=bearer(mine["access_token"]),
    )
    assert wrong.status_code == 400
    changed = await client.post(
        f"{AUTH}/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=bearer(mine["access_token"]),
    )
    assert changed.status_code == 204
    kept = await client.post(f"{AUTH}/refresh", json={"refresh_token": mine["refresh_token"]})
    assert kept.status_code == 200
    ended = await client.post(f"{AUTH}/refresh", json={"refresh_token": other["refresh_token"]})
    assert ended.status_code == 401
    await login(client, email, NEW)
    refused = await client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 401


async def test_password_changes_are_throttled(mailing):
    client = await mailing()
    email = "change-throttled@example.com"
    await register(client, email)
    session = await login(client, email)
    body = {"current_password": "guess guess", "new_password": NEW}
    answers = [
        (
            await client.post(
                f"{AUTH}/password", json=body, headers=bearer(session["access_token"])
            )
        ).status_code
        for _ in range(7)
    ]
    assert answers[:5] == [400] * 5
    assert answers[5] == 429


async def test_a_new_email_is_unverified_and_the_old_address_is_told(mailing, inbox):
    client = await mailing()
    old, new = "old-address@example.com", "new-address@example.com"
    await register(client, old)
    [verification] = await inbox.wait_for(old)
    assert (
        await client.post(f"{AUTH}/verify-email/confirm", json={"token": token_of(verification)})
    ).status_code == 204
    session = await login(client, old)
    await register(client, "taken@example.com")

    renamed = await client.patch(
        f"{AUTH}/me", json={"name": "Ada King"}, headers=bearer(session["access_token"])
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Ada King"
    assert renamed.json()["email_verified"] is True
    taken = await client.patch(
        f"{AUTH}/me", json={"email": "TAKEN@example.com"}, headers=bearer(session["access_token"])
    )
    assert taken.status_code == 409

    moved = await client.patch(
        f"{AUTH}/me", json={"email": new}, headers=bearer(session["access_token"])
    )
    assert moved.status_code == 200
    assert moved.json() | {"id": None, "created_at": None} == {
        "id": None,
        "email": new,
        "name": "Ada King",
        "email_verified": False,
        "created_at": None,
    }
    told = (await inbox.wait_for(old, 2))[-1]
    assert told["Subject"] == "Your email address was changed"
    assert new in told.get_payload(decode=True).decode()
    [confirmation] = await inbox.wait_for(new)
    # The link sent to the old address before the change is dead; the new one works.
    assert (
        await client.post(f"{AUTH}/verify-email/confirm", json={"token": token_of(confirmation)})
    ).status_code == 204
    cleared = await client.patch(
        f"{AUTH}/me", json={"name": None}, headers=bearer(session["access_token"])
    )
    assert cleared.json()["name"] is None
    assert cleared.json()["email_verified"] is True


async def test_better_auth_accounts_are_refused_clearly(make_client):
    client = await make_client(environment={"BETTER_AUTH_SECRET": SECRET})
    now = int(time.time())
    claims = {"sub": "ba-mail-1", "email": "ba@example.com", "exp": now + 600}
    token = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET), algorithms=["HS256"])
    for method, path, body in [
        ("POST", "/password", {"current_password": "x", "new_password": NEW}),
        ("POST", "/verify-email", None),
        ("PATCH", "/me", {"name": "Someone"}),
    ]:
        answer = await client.request(method, f"{AUTH}{path}", json=body, headers=bearer(token))
        assert answer.status_code == 403, (path, answer.text)
        assert "Better Auth" in answer.json()["detail"]


async def test_without_the_mail_plugin_the_link_goes_to_the_log(
    make_client, database_url, caplog, monkeypatch
):
    # auth alone starts; on the embedded development database (`make run`) the log shows the
    # message with its link, which works.
    monkeypatch.setenv("EMBEDDED_DATABASE_URL", database_url)
    client = await make_client(enabled=("health", "auth", "tasks"))
    email = "logged@example.com"
    with caplog.at_level(logging.INFO, logger="app.plugins.auth"):
        await register(client, email)
        assert (
            await client.post(f"{AUTH}/password-reset", json={"email": email})
        ).status_code == 202
    logged = [r.getMessage() for r in caplog.records if "Reset your password" in r.getMessage()]
    assert logged
    token = LINK.search(logged[-1]).group(1)
    body = {"token": token, "password": NEW}
    assert (await client.post(f"{AUTH}/password-reset/confirm", json=body)).status_code == 204
    await login(client, email, NEW)


async def test_elsewhere_the_log_never_holds_the_link(make_client, caplog):
    client = await make_client(enabled=("health", "auth", "tasks"))
    email = "not-logged@example.com"
    with caplog.at_level(logging.INFO, logger="app.plugins.auth"):
        await register(client, email)
        assert (
            await client.post(f"{AUTH}/password-reset", json={"email": email})
        ).status_code == 202
    logged = [r.getMessage() for r in caplog.records if "Reset your password" in r.getMessage()]
    assert logged == [
        f"mail to {email} (Reset your password) not sent: the mail plugin is not enabled"
    ]
    assert not any(LINK.search(r.getMessage()) for r in caplog.records)
