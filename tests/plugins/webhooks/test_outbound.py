"""Task: T-169, T-220, T-224
Spec: specs/features/jobs.md §Outbound requests

The outbound client against a local server that misbehaves on request: addresses refused after
resolution unless allowed, the connection pinned to the checked address (Host and TLS name kept),
redirects not followed (and checked hop by hop when they are), the size cap and the timeouts.

Nothing here sends a packet beyond loopback: where a test names a private address, the client's
inner transport is `LoopbackOnly`, which fails the test instead of connecting anywhere else.
"""

import asyncio
import ipaddress
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core.errors import ConfigError
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.plugins.webhooks.destinations import Allowances, refusal
from app.plugins.webhooks.outbound import (
    Connections,
    DestinationRefused,
    Limits,
    OutboundClient,
    OutboundError,
    OutboundTimeout,
    ResponseTooLarge,
)
from app.plugins.webhooks.settings import WebhooksSettings
from app.testing.database import settings_for
from tests.core.test_connectivity import self_signed
from tests.plugins.webhooks.conftest import ENABLED

LOOPBACK = Allowances.parse(["127.0.0.1"])
SHORT = Limits(connect_seconds=2, read_seconds=0.5, total_seconds=2, max_response_bytes=1000)


class Misbehaving:
    """An HTTP/1.1 server on 127.0.0.1 whose answer depends on the path."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, context: ssl.SSLContext | None = None) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=context)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            request_line, *lines = head.split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines if ": " in line)
            path = request_line.split()[1]
            self.requests.append({"path": path, **headers})
            await self._answer(path, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> None:
        def send(status: str, body: bytes = b"", *extra: str, length: bool = True) -> None:
            fields = [f"HTTP/1.1 {status}", "connection: close", *extra]
            if length:
                fields.append(f"content-length: {len(body)}")
            writer.write(("\r\n".join(fields) + "\r\n\r\n").encode() + body)

        if path == "/ok":
            send("200 OK", b"hello")
        elif path.startswith("/redirect/"):
            send("302 Found", b"", f"location: {path.removeprefix('/redirect/')}")
        elif path == "/declared-big":
            send("200 OK", b"x" * 2000)
        elif path == "/streamed-big":
            send("200 OK", b"", length=False)
            for _ in range(100):
                writer.write(b"x" * 100)
                await writer.drain()
        elif path == "/silent":
            await asyncio.sleep(30)
        elif path == "/trickle":
            send("200 OK", b"", length=False)
            for _ in range(300):  # a byte every 0.1 s: never a read timeout
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.1)
        await writer.drain()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Misbehaving]:
    server = Misbehaving()
    await server.start()
    yield server
    await server.close()


class LoopbackOnly(httpx.AsyncBaseTransport):
    """A network that reaches 127.0.0.1 alone: any other address fails the test."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "127.0.0.1", f"would have connected to {request.url.host}"
        self.sent.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_name_resolving_to_loopback_is_refused_unless_allowed(receiver: Misbehaving):
    async with OutboundClient() as client:
        with pytest.raises(DestinationRefused, match=r"127\.0\.0\.1 is a loopback address"):
            await client.request("GET", receiver.url("/ok", host="localhost"))
        with pytest.raises(DestinationRefused):
            await client.check(receiver.url("/ok", host="localhost"))
    assert receiver.requests == []

    allowed = OutboundClient.from_settings(
        WebhooksSettings(_env_file=None, outbound_allow_hosts="127.0.0.1")
    )
    async with allowed as client:
        await client.check(receiver.url("/ok", host="localhost"))
        response = await client.request("GET", receiver.url("/ok", host="localhost"))
    assert (response.status_code, response.content) == (200, b"hello")
    assert receiver.requests[0]["host"] == f"localhost:{receiver.port}"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "0.0.0.0", "169.254.169.254", "10.1.2.3"],
)
async def test_literal_addresses_are_judged_too(host: str):
    network = LoopbackOnly()
    async with OutboundClient(inner=network) as client:
        with pytest.raises(DestinationRefused):
            await client.request("GET", f"http://{host}:9/")
    assert network.sent == []


async def test_the_connection_goes_to_the_checked_address_with_the_hosts_name(
    receiver: Misbehaving,
):
    network = LoopbackOnly()
    async with OutboundClient(LOOPBACK, inner=network) as client:
        await client.request("GET", receiver.url("/ok", host="localhost"))
    [sent] = network.sent
    assert sent.url.host == "127.0.0.1"  # pinned: the inner transport resolves nothing
    assert sent.headers["host"] == f"localhost:{receiver.port}"
    assert sent.extensions["sni_hostname"] == "localhost"


async def test_tls_verifies_the_hosts_name_while_connecting_to_its_address(tmp_path: Path):
    cert, key = self_signed(tmp_path, with_address=False)  # valid for "localhost" only
    names: list[str | None] = []
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server_context.sni_callback = lambda _socket, name, _context: names.append(name)
    server = Misbehaving()
    await server.start(server_context)
    trusting = httpx.AsyncHTTPTransport(verify=ssl.create_default_context(cafile=str(cert)))
    try:
        async with OutboundClient(LOOPBACK, inner=LoopbackOnly(trusting)) as client:
            response = await client.request("GET", server.url("/ok", "localhost", "https"))
    finally:
        await server.close()
    assert response.content == b"hello"
    assert names == ["localhost"]


class KeptAlive:
    """An HTTP/1.1 server on 127.0.0.1 that keeps connections open and answers 200 "ok" to
    every request; it counts the connections opened and the TLS server names asked for."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.names: list[str | None] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, cert: Path | None = None, key: Path | None = None) -> None:
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            context.sni_callback = lambda _socket, name, _context: self.names.append(name)
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=context)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_connections_are_kept_alive_and_reused():
    server = KeptAlive()
    await server.start()
    try:
        async with OutboundClient(LOOPBACK) as client:
            for _ in range(20):
                response = await client.request("POST", f"http://127.0.0.1:{server.port}/hook")
                assert response.content == b"ok"
            # Concurrent requests open more, up to one each, and reuse them after.
            await asyncio.gather(
                *(client.request("GET", f"http://127.0.0.1:{server.port}/") for _ in range(5))
            )
    finally:
        await server.close()
    assert server.requests == 25
    assert server.connections <= 5  # one connection per request before issue 16: 25


async def test_the_tls_context_is_built_once(monkeypatch: pytest.MonkeyPatch):
    built: list[object] = []
    real = ssl.create_default_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    server = KeptAlive()
    await server.start()
    try:
        async with OutboundClient(LOOPBACK) as client:
            for _ in range(10):
                await client.request("POST", f"http://127.0.0.1:{server.port}/hook")
    finally:
        await server.close()
    assert len(built) <= 1


async def test_a_kept_connection_serves_only_its_own_address_and_tls_name(tmp_path: Path):
    cert, key = self_signed(tmp_path, with_address=False)  # valid for "localhost" only
    server = KeptAlive()
    await server.start(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    try:
        async with OutboundClient(LOOPBACK, inner=Connections(context=trusting)) as client:
            for _ in range(10):
                response = await client.request("GET", f"https://localhost:{server.port}/")
                assert response.content == b"ok"
            # Same address and port, another name: a connection of its own, verified for that
            # name (and refused: the certificate is not valid for 127.0.0.1).
            with pytest.raises(OutboundError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
                await client.request("GET", f"https://127.0.0.1:{server.port}/")
            await client.request("GET", f"https://localhost:{server.port}/")
    finally:
        await server.close()
    assert server.requests == 11
    assert server.names == ["localhost", None]  # one handshake per name; an IP sends no SNI


async def test_redirects_are_not_followed_by_default(receiver: Misbehaving):
    network = LoopbackOnly()
    async with OutboundClient(LOOPBACK, inner=network) as client:
        response = await client.request("GET", receiver.url("/redirect/http://10.0.0.1:8080/"))
    assert response.status_code == 302
    assert len(network.sent) == 1


@pytest.mark.parametrize("target", ["http://10.0.0.1:8080/", "http://127.0.0.2:{port}/ok"])
async def test_a_redirect_to_a_private_address_is_not_followed(receiver: Misbehaving, target: str):
    network = LoopbackOnly()
    location = target.format(port=receiver.port)
    async with OutboundClient(LOOPBACK, inner=network) as client:
        with pytest.raises(DestinationRefused):
            await client.request(
                "GET", receiver.url(f"/redirect/{location}"), follow_redirects=True
            )
    assert [request.url.path for request in network.sent] == [f"/redirect/{location}"]


async def test_an_allowed_redirect_is_followed(receiver: Misbehaving):
    async with OutboundClient(LOOPBACK) as client:
        response = await client.request(
            "GET", receiver.url(f"/redirect/{receiver.url('/ok')}"), follow_redirects=True
        )
    assert (response.status_code, response.content) == (200, b"hello")


@pytest.mark.parametrize("path", ["/declared-big", "/streamed-big"])
async def test_the_response_size_is_capped(receiver: Misbehaving, path: str):
    async with OutboundClient(LOOPBACK, SHORT) as client:
        with pytest.raises(ResponseTooLarge):
            await client.request("GET", receiver.url(path))


@pytest.mark.parametrize(("path", "within"), [("/silent", 1.5), ("/trickle", 3)])
async def test_timeouts_hold(receiver: Misbehaving, path: str, within: float):
    started = time.monotonic()
    async with OutboundClient(LOOPBACK, SHORT) as client:
        with pytest.raises(OutboundTimeout):
            await client.request("GET", receiver.url(path))
    assert time.monotonic() - started < within


async def test_only_http_urls():
    async with OutboundClient(LOOPBACK) as client:
        with pytest.raises(DestinationRefused, match="ftp:// URLs are not allowed"):
            await client.check("ftp://127.0.0.1/file")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),
        ("::", "the unspecified address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"),
        ("64:ff9b::7f00:1", "a loopback address"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_classes(address: str, reason: str | None):
    assert refusal(ipaddress.ip_address(address)) == reason


# IPv6 addresses that stand for an IPv4 one are judged by that IPv4 address (issue 16).
LOCAL_USE = "a local-use NAT64 address whose IPv4 address depends on the local prefix"
EMBEDDED = [
    ("::10.0.0.1", "a private address"),  # IPv4-compatible
    ("::a9fe:a9fe", "a cloud metadata address"),
    ("::127.0.0.1", "a loopback address"),
    ("::ffff:0:a9fe:a9fe", "a cloud metadata address"),  # IPv4-translated
    ("::ffff:0:10.0.0.1", "a private address"),
    ("2002:a9fe:a9fe::1", "a cloud metadata address"),  # 6to4
    ("2002:0a00:0001::1", "a private address"),
    ("2002:7f00:1::", "a loopback address"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a private address"),  # Teredo, client 10.0.0.1
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "a private address"),  # Teredo via server 10.0.0.1
    ("64:ff9b::a9fe:a9fe", "a cloud metadata address"),  # NAT64
    ("64:ff9b:1::a9fe:a9fe", "a cloud metadata address"),  # local-use NAT64
    ("64:ff9b:1::808:808", LOCAL_USE),
    ("::ffff:8.8.8.8", None),
    ("2002:808:808::1", None),
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", None),  # Teredo, client 8.8.8.8
    ("64:ff9b::808:808", None),
]


@pytest.mark.parametrize(("address", "reason"), EMBEDDED)
def test_an_embedded_ipv4_address_is_judged_as_itself(address: str, reason: str | None):
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "host",
    [
        "[::10.0.0.1]",
        "[::a9fe:a9fe]",
        "[::ffff:0:a9fe:a9fe]",
        "[2002:a9fe:a9fe::1]",
        "[2002:0a00:0001::1]",
        "[64:ff9b:1::a9fe:a9fe]",
        "[2001:0:4136:e378:8000:63bf:f5ff:fffe]",
    ],
)
async def test_an_embedded_ipv4_address_gets_no_request(host: str):
    network = LoopbackOnly()
    async with OutboundClient(inner=network) as client:
        with pytest.raises(DestinationRefused):
            await client.check(f"https://{host}/hook")
        with pytest.raises(DestinationRefused):
            await client.request("POST", f"https://{host}/hook")
    assert network.sent == []


def test_an_embedding_address_is_allowed_only_as_what_it_reaches():
    allowances = Allowances.parse(["127.0.0.0/8", "10.1.0.0/16"])
    assert allowances.refusal("x", ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert allowances.refusal("x", ipaddress.ip_address("2002:a01:203::1")) is None
    # Only its /64 reading (10.1.2.3) is listed; read with another prefix it is elsewhere.
    local = ipaddress.ip_address("64:ff9b:1:0:a:102:3a9:fea9")
    assert allowances.refusal("x", local) is not None


def test_allowances_take_hosts_and_networks():
    allowances = Allowances.parse(["Receiver.Internal.", "10.1.0.0/16", "::1"])
    assert allowances.refusal("receiver.internal", ipaddress.ip_address("10.9.9.9")) is None
    assert allowances.refusal("other", ipaddress.ip_address("10.1.2.3")) is None
    assert allowances.refusal("other", ipaddress.ip_address("::1")) is None
    assert allowances.refusal("other", ipaddress.ip_address("10.2.0.1")) == "a private address"
    # As written, before resolving: a listed name, or an address in a listed network.
    assert allowances.names("RECEIVER.internal.") and allowances.names("10.1.200.7")
    assert not allowances.names("other") and not allowances.names("10.2.0.1")


def test_a_bad_allowance_stops_start_up(tmp_path):
    settings = settings_for(
        "postgresql://unused/db", tmp_path, {"OUTBOUND_ALLOW_HOSTS": "10.0.0.0/33"}
    )
    with pytest.raises(ConfigError, match=r"OUTBOUND_ALLOW_HOSTS=10\.0\.0\.0/33 is not valid"):
        load(settings, PluginsFile(enabled=ENABLED))
