"""Task: T-020, T-100, T-102, T-103, T-105, T-277, T-385
Spec: specs/features/authentication.md §Settings

The auth plugin's settings: `JWT_*` and `BETTER_AUTH_*` from the environment, and the
`[plugins.auth]` table of plugins.toml.
"""

from typing import Literal, get_args

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from app.core import PluginSettings, one_of

JwtAlgorithm = Literal["HS256", "HS384", "HS512"]


class AuthSettings(PluginSettings):
    # Each field may also be set as AUTH_<NAME> in the environment; the JWT and Better Auth
    # ones keep the names they always had (their aliases).
    model_config = SettingsConfigDict(env_prefix="AUTH_")

    # Signs this API's access tokens: 32 bytes or more (see secret.py).
    jwt_secret_key: SecretStr | None = Field(default=None, validation_alias="jwt_secret_key")
    jwt_algorithm: JwtAlgorithm = Field(
        default="HS256",
        validation_alias="jwt_algorithm",
        description=one_of(get_args(JwtAlgorithm)),
    )
    jwt_access_token_expire_minutes: int = Field(
        default=60,
        ge=1,
        validation_alias="jwt_access_token_expire_minutes",
        description="a whole number of minutes, 1 or more",
    )
    # Better Auth's shared secret (HS256 tokens) and its base URL (its JWKS, issuer, audience).
    better_auth_secret: SecretStr | None = Field(
        default=None, validation_alias="better_auth_secret"
    )
    better_auth_url: str | None = Field(default=None, validation_alias="better_auth_url")
    better_auth_issuer: str | None = Field(default=None, validation_alias="better_auth_issuer")
    better_auth_audience: str | None = Field(default=None, validation_alias="better_auth_audience")

    # False where Better Auth owns accounts: register/login/token/refresh are not mounted.
    local_accounts: bool = True
    # True: login refuses an account whose email is not verified (and mails a fresh link).
    require_verified_email: bool = False
    # The front end the mailed links open: <url>/reset-password?token=…, /verify-email?token=….
    links_base_url: str = Field(
        default="http://localhost:3000",
        pattern=r"^https?://[^\s]+$",
        description="an http(s) URL, e.g. https://todo.example.com",
    )
    # Login attempts for one account from one client address before lockouts begin.
    max_failed_logins: int = Field(default=5, ge=1)
    # Login attempts for one account from every address together: bounds a distributed
    # guesser, and is higher so that one address alone cannot lock the owner out.
    max_failed_logins_per_account: int = Field(default=20, ge=1)
    # A counter is forgotten this long after its last attempt or lockout.
    failed_login_window_seconds: int = Field(default=900, ge=1)
    # The first lockout past a limit; each further one doubles, up to the maximum.
    lockout_seconds: int = Field(default=2, ge=1)
    max_lockout_seconds: int = Field(default=900, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)
    # A refresh token presented again this soon after its first use (another tab, a retry)
    # gets a new token in its family instead of revoking it. 0: strictly single use.
    refresh_grace_seconds: int = Field(default=10, ge=0, le=300)
    # How long a login or registration waits for a free core to hash on before it is answered
    # 503 with Retry-After.
    hashing_queue_seconds: float = Field(default=5, gt=0, le=60)
    # Clock skew tolerated on exp/nbf/iat, between us and Better Auth's servers.
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Better Auth tokens living longer than this (`exp` - `iat`) are refused; its JWT plugin
    # issues 15-minute tokens by default. Local tokens are held to JWT_ACCESS_TOKEN_EXPIRE_MINUTES.
    better_auth_max_lifetime_seconds: int = Field(default=86_400, ge=60)
    # A local access token is trusted for its lifetime, but whether its user still exists is
    # asked again at most this often (per user, per process): a deleted user's live token is
    # refused within this many seconds. 0 asks on every request.
    user_recheck_seconds: int = Field(default=60, ge=0, le=3600)
    # The JWKS is fetched again for an unknown `kid` at most this often.
    jwks_refresh_seconds: int = Field(default=30, ge=1)
    # A personal access token's lookup is remembered this long per process: a revoked token is
    # refused by every instance within it (5 at most, the promise). 0 looks up every request.
    personal_token_cache_seconds: float = Field(default=5, ge=0, le=5)
