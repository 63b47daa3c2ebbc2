"""Task: T-132, T-205, T-215
Spec: specs/api/rest-endpoints.md §Changes

The `[plugins.changes]` table of plugins.toml.
"""

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ChangesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How long changes (tombstones included) are kept; an older cursor gets 410 Gone.
    retention_days: float = Field(30, gt=0)
    default_page_size: int = Field(100, ge=1)
    max_page_size: int = Field(1000, ge=1, le=10_000)
    # A comment line on every open stream this often, so proxies keep it open.
    heartbeat_seconds: float = Field(15, gt=0)
    # Without LISTEN (no direct connection), how often the log is polled for new changes.
    poll_seconds: float = Field(1.0, gt=0, le=2)
    # After a change, after-commit consumers wait this long before reading, so that the writes
    # of a busy moment are handled in one batch (one transaction) instead of one each.
    consumer_delay_seconds: float = Field(0.1, ge=0, le=5)
    # A change an after-commit consumer fails on this many times in a row (the last tries with
    # that change alone) is set aside, and the consumer moves on (plugins.md §Events).
    consumer_attempts: int = Field(5, ge=1, le=100)
    # The wait after a consumer's first failure, doubled after each next one (at most 30 s):
    # with the defaults a poison change is set aside about 3 s after it first failed.
    consumer_retry_seconds: float = Field(0.2, gt=0, le=30)
    # Live streams one user may hold open at once, on all instances together; the next is a
    # 429 with Retry-After.
    max_streams_per_user: int = Field(8, ge=1, le=1000)
    # Live streams one process (instance) holds at most, all users together; the next is a
    # 503 with Retry-After.
    max_streams: int = Field(1000, ge=1)
    # An open stream's lease (renewed every third of it): a stream whose instance died stops
    # counting against its user's cap this long after; also the Retry-After of both refusals.
    stream_lease_seconds: float = Field(30, ge=3, le=3600)

    @model_validator(mode="after")
    def _default_fits(self) -> "ChangesSettings":
        if self.default_page_size > self.max_page_size:
            raise ValueError("default_page_size must not exceed max_page_size")
        return self
