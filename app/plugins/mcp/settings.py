"""Task: T-443
Spec: specs/features/mcp.md §Protected-resource metadata

The mcp plugin's settings: which authorization servers its protected-resource metadata names.
"""

from pydantic import Field

from app.core import CommaSeparated, PluginSettings


class McpSettings(PluginSettings):
    authorization_servers: CommaSeparated = Field(
        default=[], validation_alias="MCP_AUTHORIZATION_SERVERS"
    )
    """Issuer URLs of the authorization servers whose tokens the MCP endpoint takes (RFC 9728
    `authorization_servers`), e.g. the Better Auth URL; empty: this API itself (local accounts)."""
