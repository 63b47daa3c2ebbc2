"""Task: T-159
Spec: specs/api/rest-endpoints.md §Contract

A client generated from the app's OpenAPI document with `openapi-python-client` works against a
live server (`todo-api serve`): register, log in, create, list, and the errors a client must
handle — each arrives as the typed problem the document declares (`ValidationProblem`,
`Problem`), never as an exception from the client's parser or `None`. The client raises on any
status the document does not declare.
"""

import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from app.core.app import create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import DEFAULT_ENABLED, PluginsFile
from app.testing import TEST_SECRET, settings_for
from harness.server import serving

PACKAGE = "todo_api_client"


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[ModuleType]:
    """The client, generated into a temporary folder and imported from there."""
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    app = create_app(settings, load(settings, PluginsFile(enabled=DEFAULT_ENABLED)))
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(app.openapi()))
    config = tmp_path / "client.json"
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    generator = Path(sys.executable).with_name("openapi-python-client")
    command = [generator, "generate", "--path", document, "--config", config, "--meta", "none"]
    command += ["--output-path", tmp_path / "client" / PACKAGE]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout  # every part of the document understood
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def api(package: ModuleType, name: str) -> ModuleType:
    tag = name.split("_")[0]
    return importlib.import_module(f"{package.__name__}.api.{tag}.{name}")


async def test_a_generated_client_works_against_a_live_server(
    generated: ModuleType, database_url: str, tmp_path: Path
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    email, password = f"ada-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
    async with serving(database_url, tmp_path / "data", secret=TEST_SECRET) as base:
        anonymous = generated.Client(base_url=base, raise_on_unexpected_status=True)
        registration = models.Registration(email=email, password=password, name="Ada")
        registered = await api(generated, "auth_register").asyncio_detailed(
            client=anonymous, body=registration
        )
        assert registered.status_code == 201
        assert isinstance(registered.parsed, models.UserOut)
        assert registered.headers["location"] == "/api/v1/auth/me"

        credentials = models.Credentials(email=email, password=password)
        tokens = await api(generated, "auth_login").asyncio(client=anonymous, body=credentials)
        assert isinstance(tokens, models.TokenPair)
        client = generated.AuthenticatedClient(
            base_url=base, token=tokens.access_token, raise_on_unexpected_status=True
        )

        task = models.TaskCreate(
            title="Buy oat milk", priority=models.Priority.HIGH, tags=["shopping", "shopping"]
        )
        created = await api(generated, "tasks_create").asyncio_detailed(client=client, body=task)
        assert created.status_code == 201
        assert isinstance(created.parsed, models.TaskOut)
        assert created.parsed.tags == ["shopping"]
        assert created.headers["location"] == f"/api/v1/tasks/{created.parsed.id}"

        invalid = await api(generated, "tasks_create").asyncio_detailed(
            client=client, body=models.TaskCreate(title="")
        )
        assert invalid.status_code == 422
        assert isinstance(invalid.parsed, models.ValidationProblem)
        assert invalid.parsed.errors[0].loc == ["body", "title"]

        missing = await api(generated, "tasks_get").asyncio_detailed(
            client=client, task_id=str(uuid.uuid4())
        )
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem)
        assert missing.parsed.detail == "Task not found"

        listed = await api(generated, "tasks_list").asyncio(
            client=client, sort=models.TaskSort.CREATED_AT_DESC, limit=10
        )
        assert [task.id for task in listed] == [created.parsed.id]

        stranger = generated.AuthenticatedClient(
            base_url=base, token="not-a-token", raise_on_unexpected_status=True
        )
        refused = await api(generated, "tasks_list").asyncio_detailed(client=stranger)
        assert refused.status_code == 401
        assert isinstance(refused.parsed, models.Problem)
        assert refused.headers["www-authenticate"] == "Bearer"
