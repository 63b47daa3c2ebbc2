"""Task: T-191, T-223, T-277
Spec: specs/features/webhooks.md §Settings

The webhooks plugin's settings: `OUTBOUND_ALLOW_HOSTS` and the `[plugins.webhooks]` table.
"""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from app.core import CommaSeparated, PluginSettings
from app.plugins.webhooks.destinations import hosts_and_networks

# Svix's schedule: after the first attempt, retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
# later (about 27 hours in all), then the delivery fails and the endpoint is disabled.
DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class WebhooksSettings(PluginSettings):
    # Each field may also be set as WEBHOOKS_<NAME> in the environment.
    model_config = SettingsConfigDict(env_prefix="WEBHOOKS_")

    # Hosts and networks deliveries may reach although they are not public addresses: a
    # receiver on loopback in tests, an internal service an operator trusts.
    outbound_allow_hosts: CommaSeparated = Field(
        default=[],
        validation_alias="outbound_allow_hosts",
        description="host names, IP addresses or CIDR networks, comma-separated, without ports "
        "or schemes (e.g. 127.0.0.1,10.1.0.0/16,receiver.internal)",
    )

    # Seconds between one failed attempt and the next; its length is the number of retries.
    retry_schedule_seconds: list[Annotated[float, Field(ge=0, le=7 * 86400)]] = Field(
        default=list(DEFAULT_SCHEDULE), min_length=1, max_length=20
    )
    # Each wait is stretched or shrunk by up to this fraction at random, so endpoints that fail
    # together are not retried in lockstep.
    jitter: float = Field(0.1, ge=0, le=0.5)
    # How many endpoints one user may register.
    max_endpoints: int = Field(20, ge=1, le=1000)
    # How many delivery attempts run at once, across every worker of every instance: the rest
    # wait in the queue, where each user's next delivery is taken before anyone's second.
    max_concurrent_deliveries: int = Field(8, ge=1, le=1000)
    # How many deliveries `GET /webhooks/{id}/deliveries` answers at most.
    max_page_size: int = Field(100, ge=1, le=1000)
    # Deliveries older than this are deleted (a daily job).
    retention_days: int = Field(30, ge=1)

    @field_validator("outbound_allow_hosts")
    @classmethod
    def _parse_allowances(cls, value: list[str]) -> list[str]:
        hosts_and_networks(value)  # a ValueError names the entry
        return value
