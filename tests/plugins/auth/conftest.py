"""Task: T-025
Spec: specs/features/authentication.md §Better Auth tokens

A local stand-in for a Better Auth server's JWKS endpoint: a real HTTP server on loopback
serving public keys generated here, counting how often it is asked.
"""

import json
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

PASSWORD = "correct horse battery"


class JWKSServer:
    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.requests = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/api/auth/jwks":
                    self.send_error(404)
                    return
                owner.requests += 1
                body = json.dumps(
                    {
                        "keys": [
                            key.as_dict(private=False, kid=kid) for kid, key in owner.keys.items()
                        ]
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def add(self, kid: str, key: Any) -> Any:
        self.keys[kid] = key
        return key

    def token(self, kid: str | None, alg: str, claims: dict[str, Any], key: Any = None) -> str:
        header = {"alg": alg} | ({"kid": kid} if kid else {})
        with warnings.catch_warnings():
            # Signing as Better Auth does, with the name RFC 9864 deprecates.
            warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
            return jwt.encode(header, claims, key or self.keys[kid], algorithms=[alg])

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {"sub": "ba-user-1", "iss": self.url, "aud": self.url, "iat": now, "exp": now + 900}
        return {k: v for k, v in (base | overrides).items() if v is not None}


@pytest.fixture
def jwks() -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.add("ed", OKPKey.generate_key("Ed25519"))
    yield server
    server.server.shutdown()


@pytest.fixture
async def better_auth(make_client, jwks):
    """An app that trusts the local JWKS server as its Better Auth."""
    return await make_client(environment={"BETTER_AUTH_URL": jwks.url})


KEY_TYPES = {
    "ES256": lambda: ECKey.generate_key("P-256"),
    "ES512": lambda: ECKey.generate_key("P-521"),
    "RS256": lambda: RSAKey.generate_key(2048),
    "PS256": lambda: RSAKey.generate_key(2048),
    "HS256": lambda: OctKey.generate_key(256),
}
