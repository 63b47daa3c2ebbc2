"""Task: T-025
Spec: specs/features/authentication.md §Better Auth tokens

Better Auth's public keys, from `{BETTER_AUTH_URL}/api/auth/jwks`.

Keys are fetched on first use and cached. A token whose `kid` is not in the cache triggers one
refetch — Better Auth rotates keys — but at most once per `refresh_seconds`, so a flood of
made-up kids cannot turn this server into a load generator against the JWKS endpoint. Only that
one configured URL is ever fetched: `jku`/`x5u` headers in a token are ignored.
"""

import asyncio
import logging
import time

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

logger = logging.getLogger("todo_api")


class JWKS:
    def __init__(self, url: str, refresh_seconds: float) -> None:
        self.url = url
        self.refresh_seconds = refresh_seconds
        self.client: httpx.AsyncClient | None = None  # opened by the plugin's lifespan
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_set(self, kid: str) -> KeySet | None:
        """The key set holding `kid`, refetched if needed and allowed; None if no such key."""
        if self._keys is not None and _has(self._keys, kid):
            return self._keys
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if self._keys is not None and _has(self._keys, kid):
                return self._keys
            if time.monotonic() - self._fetched_at >= self.refresh_seconds:
                await self._fetch()
        return self._keys if self._keys is not None and _has(self._keys, kid) else None

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        assert self.client is not None, "the auth plugin's lifespan opens the JWKS client"
        try:
            response = await self.client.get(self.url)
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            # Keep the keys we had: a JWKS outage must not log everyone out.
            logger.warning(
                "could not fetch Better Auth keys from %s: %s", self.url, type(exc).__name__
            )


def _has(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)
