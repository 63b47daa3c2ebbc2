"""Task: T-166, T-221
Spec: specs/features/jobs.md §Outbound requests

`OutboundClient`: HTTP requests to URLs that users supply (webhook deliveries), made safe and
cheap: one per process (the webhooks plugin's lifespan opens it), its connections kept alive
and reused, its TLS context built once.

- Every request, and every redirect hop when a caller asks for redirects (none are followed by
  default), resolves the host itself and refuses addresses that are not public
  (`app.plugins.webhooks.destinations`), unless `OUTBOUND_ALLOW_HOSTS` allows them.
- The connection goes to the address that was checked: the URL is rewritten to that IP while
  the `Host` header and the TLS server name (SNI, and so certificate verification) stay the
  host's. Letting the HTTP library resolve the name again would let a DNS answer that changes
  between check and connect (DNS rebinding) reach an internal address.
- Connections are pooled by (checked address, port, TLS server name): a kept-alive connection
  is reused only for a request whose check chose that very address and whose certificate was
  verified for that very name (`Connections`).
- Connect, read and total timeouts, and a cap on the response body: a receiver that trickles
  bytes or sends gigabytes costs a bounded amount of time and memory.
"""

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import certifi
import httpcore
import httpx

# httpx's own glue between its requests and httpcore's (exceptions, the body stream), reused
# rather than copied: `Connections` talks to an httpcore pool of its own making.
from httpx._transports.default import AsyncResponseStream, map_httpcore_exceptions

from app.plugins.webhooks.destinations import Allowances, IPAddress
from app.plugins.webhooks.settings import WebhooksSettings


class OutboundError(Exception):
    """The request failed: refused, timed out, too large, or the connection failed."""


class DestinationRefused(OutboundError):
    """The URL's host is, or resolves to, an address outbound requests may not reach."""


class ResponseTooLarge(OutboundError):
    pass


class OutboundTimeout(OutboundError):
    pass


@dataclass(frozen=True)
class Limits:
    connect_seconds: float = 5.0  # name resolution, TCP and TLS
    read_seconds: float = 10.0  # between two chunks of the answer
    total_seconds: float = 30.0  # the whole exchange, redirects and body included
    max_response_bytes: int = 64 * 1024
    max_redirects: int = 5  # only when the caller asks to follow them
    max_connections: int = 100  # open at once, per process; more requests wait for one
    max_idle_connections: int = 20  # kept alive for reuse
    idle_seconds: float = 5.0  # how long an idle connection is kept


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str  # the last hop's URL


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves and checks each request's host, then sends it to the checked address."""

    def __init__(
        self,
        allowances: Allowances,
        connect_seconds: float,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allowances = allowances
        self.connect_seconds = connect_seconds
        self.inner = inner or Connections()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        address = await self.destination(request.url)
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(address)),
            headers=request.headers,  # keeps `Host: <name>`
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return await self.inner.handle_async_request(pinned)

    async def destination(self, url: httpx.URL) -> IPAddress:
        """The first address of the URL's host that may be reached; `DestinationRefused` when
        none may."""
        if url.scheme not in {"http", "https"}:
            raise DestinationRefused(f"{url.scheme}:// URLs are not allowed; use http(s)://")
        host = url.host
        if not host:
            raise DestinationRefused("the URL has no host")
        addresses = await self._resolve(host, url.port or (443 if url.scheme == "https" else 80))
        refusals = []
        for address in addresses:
            reason = self.allowances.refusal(host, address)
            if reason is None:
                return address
            refusals.append(f"{address} is {reason}")
        raise DestinationRefused(f"{host}: {'; '.join(dict.fromkeys(refusals))}")

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]  # a literal address: nothing to resolve
        except ValueError:
            pass
        try:
            async with asyncio.timeout(self.connect_seconds):
                found = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
        except TimeoutError:
            raise OutboundTimeout(f"{host}: name resolution timed out") from None
        except OSError as exc:
            raise OutboundError(f"{host}: cannot resolve ({exc.strerror or exc})") from None
        # sockaddr[0] of an IPv6 link-local answer carries a `%scope`; such an address is
        # refused anyway, so the scope is dropped.
        return list(
            dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found)
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class Connections(httpx.AsyncBaseTransport):
    """The connections of one process: kept alive and reused, under one TLS context built once.

    Its requests come from `PinnedTransport`: the URL's host is the checked address and the
    `sni_hostname` extension the host's name. httpcore pools connections by the URL's origin,
    so the origin given to it is `<address>|<name>`: a connection is reused only for the same
    address, port and TLS name (a connection verified for `a.example` never carries a request
    for `b.example` on the same address), and `PinnedBackend` connects it to the address alone,
    resolving nothing. No environment proxies: a proxy would resolve the name itself.
    """

    def __init__(
        self, limits: "Limits | None" = None, context: ssl.SSLContext | None = None
    ) -> None:
        limits = limits or Limits()
        # Building a context (reading the CA bundle) costs tens of milliseconds of CPU: once.
        context = context or ssl.create_default_context(cafile=certifi.where())
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_idle_connections,
            keepalive_expiry=limits.idle_seconds,
            network_backend=PinnedBackend(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        name = request.extensions.get("sni_hostname") or request.url.host
        routed = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=f"{request.url.host}|{name}".encode("ascii"),
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions={**request.extensions, "sni_hostname": name},
        )
        with map_httpcore_exceptions():
            response = await self.pool.handle_async_request(routed)
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=AsyncResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects `<address>|<name>` to the address: the one `PinnedTransport` checked.
    (httpcore's interface names its parameter `timeout`.)"""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = str(ipaddress.ip_address(host.partition("|")[0]))  # never a name to resolve
        return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound requests use TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class OutboundClient:
    """One per process: the webhooks plugin's lifespan opens it into `app.state.resources`,
    which the kernel closes after every plugin's lifespan, so every job, the last ones included,
    finds it open. Elsewhere: `async with OutboundClient.from_settings(settings) as client`."""

    def __init__(
        self,
        allowances: Allowances = Allowances(),
        limits: Limits = Limits(),
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.limits = limits
        self.transport = PinnedTransport(
            allowances, limits.connect_seconds, inner or Connections(limits)
        )
        self._client = httpx.AsyncClient(
            transport=self.transport,
            timeout=httpx.Timeout(
                limits.total_seconds,
                connect=limits.connect_seconds,
                read=limits.read_seconds,
            ),
            follow_redirects=False,
            max_redirects=limits.max_redirects,
            trust_env=False,
            # The cap counts bytes as they arrive: a compressed answer could expand past it.
            headers={"accept-encoding": "identity", "user-agent": "todo-api"},
        )

    @classmethod
    def from_settings(
        cls, settings: WebhooksSettings, limits: Limits = Limits()
    ) -> "OutboundClient":
        return cls(Allowances.parse(settings.outbound_allow_hosts), limits)

    def allows(self, host: str) -> bool:
        """Whether the operator allows `host` as written (`OUTBOUND_ALLOW_HOSTS`): a listed
        name, or an address inside a listed network; e.g. for plain `http://`."""
        return self.transport.allowances.names(host)

    async def check(self, url: str) -> None:
        """Raise `DestinationRefused` unless `url` may be requested now (for a registration
        form; every request is checked again, since DNS answers change)."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise DestinationRefused(f"not a valid URL ({exc})") from None
        await self.transport.destination(parsed)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        follow_redirects: bool = False,
    ) -> Response:
        """Send one request; the answer's body is read in full, up to the size cap.

        Raises `DestinationRefused`, `OutboundTimeout`, `ResponseTooLarge` or `OutboundError`.
        A redirect is returned as it is (a 3xx) unless `follow_redirects`; then each hop is
        checked like the first, up to `max_redirects`.
        """
        try:
            async with asyncio.timeout(self.limits.total_seconds):
                request = self._client.build_request(method, url, headers=headers, content=content)
                response = await self._client.send(
                    request, stream=True, follow_redirects=follow_redirects
                )
                try:
                    body = await self._read(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise OutboundTimeout(
                f"no complete answer within {self.limits.total_seconds} s"
            ) from None
        except httpx.TimeoutException as exc:
            raise OutboundTimeout(f"{type(exc).__name__}: {exc}") from None
        except httpx.TooManyRedirects:
            raise OutboundError(f"more than {self.limits.max_redirects} redirects") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise OutboundError(f"{type(exc).__name__}: {exc}") from None
        return Response(response.status_code, response.headers, body, str(response.url))

    async def _read(self, response: httpx.Response) -> bytes:
        cap = self.limits.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLarge(f"the answer declares {declared} bytes, over {cap}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > cap:
                raise ResponseTooLarge(f"the answer is over {cap} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "OutboundClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
