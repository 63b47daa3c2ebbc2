"""Task: T-407
Spec: specs/features/authentication.md §Personal access tokens

A personal access token for `make bench`: its reads are driven beside the same reads with the
user's JWT, through the API and through the latency proxy (round trips).
"""

import httpx


async def personal_token(base: str, auth: dict[str, str]) -> dict[str, str]:
    """Headers carrying a new `tasks:read` personal token of the user `auth` signs in."""
    async with httpx.AsyncClient(base_url=base) as client:
        created = await client.post(
            "/api/v1/auth/tokens",
            json={"name": "bench", "scopes": ["tasks:read"]},
            headers=auth,
        )
    created.raise_for_status()
    return {"Authorization": f"Bearer {created.json()['token']}"}
