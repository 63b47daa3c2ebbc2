"""Task: T-024, T-105, T-106, T-157, T-158
Spec: specs/features/authentication.md §Tokens

JWT signing and verification with joserfc (authlib's JOSE engine).

`jwt.decode` checks only the signature and the algorithm; the claims are validated separately
with a `JWTClaimsRegistry` in which `exp` and `sub` are essential (otherwise a token without
`exp` would pass). Each issuer gets its own `Verifier`, with its own key and its own list of
algorithms: the algorithm named in a token never chooses the key.

A verifier either requires `iss` (and `aud`, when it expects one), or, for tokens front ends
sign with a shared secret (jose's `SignJWT` with `sub`, `email`, `exp`), takes them as
optional: absent is fine, present must match, and present where none is expected is refused.
"""

import base64
import json
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError, SecurityWarning
from joserfc.jwk import KeySet, OctKey

from app.core import AuthenticationError

LOCAL_ISSUER = "todo-api"
# Better Auth signs with `alg: "EdDSA"`; RFC 9864 renamed it `Ed25519`, and joserfc warns on
# (and, unless named, refuses) the old name. Both are accepted deliberately.
ASYMMETRIC = ["EdDSA", "Ed25519", "ES256", "ES512", "RS256", "PS256"]


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Header and claims, *unverified*: only to choose which verifier to ask. None when the
    token is no JWT at all, which leaves it to another plugin's authenticator."""
    try:
        header, payload, _ = token.split(".")
        decoded = [
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in (header, payload)
        ]
    except ValueError:
        return None
    if not all(isinstance(part, dict) for part in decoded):
        return None
    return decoded[0], decoded[1]


@dataclass(frozen=True)
class Verifier:
    key: OctKey | KeySet
    algorithms: list[str]
    issuer: str | None
    # The longest lifetime (`exp` - `iat`) this issuer gives: a token claiming more was not
    # made by it as configured, and is refused rather than trusted for years.
    max_lifetime: int
    audience: str | None = None
    leeway: int = 30
    # False: `iss` and `aud` may be absent, and must match when present.
    required_claims: bool = True

    def verify(self, token: str) -> dict[str, Any]:
        """The validated claims, or `AuthenticationError` with a safe reason."""
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
                decoded = jwt.decode(token, self.key, algorithms=self.algorithms)
        except (JoseError, ValueError):
            raise AuthenticationError("Invalid token") from None
        options: dict[str, Any] = {"exp": {"essential": True}, "sub": {"essential": True}}
        for claim, expected in (("iss", self.issuer), ("aud", self.audience)):
            if self.required_claims and expected is not None:
                options[claim] = {"essential": True, "value": expected}
            elif not self.required_claims and claim in decoded.claims:
                if expected is None:  # nothing to match it with: not a token meant for us
                    raise AuthenticationError("Invalid token")
                options[claim] = {"value": expected}
        try:
            jwt.JWTClaimsRegistry(leeway=self.leeway, **options).validate(decoded.claims)
        except JoseError as exc:
            expired = isinstance(exc, ExpiredTokenError)
            raise AuthenticationError("Token expired" if expired else "Invalid token") from None
        # The registry checked that `exp` (and `iat`, when present) are finite numbers.
        claims = decoded.claims
        if claims["exp"] - claims.get("iat", time.time()) > self.max_lifetime:
            raise AuthenticationError("Invalid token")
        sub = claims.get("sub")
        # No user id holds a NUL (PostgreSQL text cannot): looking one up would fail.
        if not isinstance(sub, str) or not sub or "\x00" in sub:
            raise AuthenticationError("Invalid token")
        return claims


@dataclass(frozen=True)
class Issuer:
    """Signs this API's access tokens."""

    key: OctKey
    algorithm: str
    lifetime_seconds: int

    def issue(self, user_id: str, session: str | None = None) -> str:
        """An access token; `session` (the refresh-token family it came with) is its `sid`,
        which is what logout ends."""
        now = int(time.time())
        claims = {
            "sub": user_id,
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": uuid.uuid4().hex,
            "iss": LOCAL_ISSUER,
        }
        if session is not None:
            claims["sid"] = session
        return jwt.encode(
            {"alg": self.algorithm, "typ": "JWT"}, claims, self.key, algorithms=[self.algorithm]
        )

    def verifier(self, leeway: int) -> Verifier:
        # Ours live exactly `lifetime_seconds`; the leeway is for clocks, as on `exp` itself.
        lifetime = self.lifetime_seconds + leeway
        return Verifier(self.key, [self.algorithm], LOCAL_ISSUER, lifetime, leeway=leeway)
