"""Task: T-115
Spec: specs/features/plugins.md §Migrations

Where a plugin's revisions are written: its source, never an installed copy.

`todo-api revision` writes into `<package>/migrations/versions`. For an installed plugin that
folder must be the author's checkout (`pip install -e`): a revision written into site-packages
is lost on the next install and never reaches version control. A plugin that is checked out but
not installed is named by its folder (`--path`), and found there through its own
`pyproject.toml` entry point.
"""

import site
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ConfigError
from app.core.plugins.installed import ENTRY_POINT_GROUP, Installed


@dataclass(frozen=True)
class Checkout:
    """A plugin's package found in a folder rather than installed."""

    name: str
    package_dir: Path
    source: str = "checkout"

    @property
    def migrations_dir(self) -> Path | None:
        versions = self.package_dir / "migrations" / "versions"
        return versions if versions.is_dir() else None


def checkout(name: str, path: Path) -> Checkout:
    """Plugin `name` in `path`: its package folder, or a project folder whose `pyproject.toml`
    declares the `todo_api.plugins` entry point `name`."""
    path = path.resolve()
    if (path / "__init__.py").is_file():
        return Checkout(name, path)
    pyproject = path / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: neither a package nor a project with a readable pyproject.toml ({exc})"
        ) from None
    target = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {}).get(name)
    if not isinstance(target, str):
        raise ConfigError(
            f'{pyproject} declares no entry point {name!r} in [project.entry-points."{ENTRY_POINT_GROUP}"]'
        )
    module = target.partition(":")[0].replace(".", "/")
    for package in (path / module, path / "src" / module):
        if (package / "__init__.py").is_file():
            return Checkout(name, package)
    raise ConfigError(f"{pyproject}: entry point {name!r} names {target!r}, not found in {path}")


def writable_source(plugin: Installed | Checkout) -> Path:
    """The package folder a revision of `plugin` may be written into; a `ConfigError` saying to
    install the checkout editable when it is an installed copy."""
    folder = plugin.package_dir
    if folder is None:
        raise ConfigError(f"plugin {plugin.name!r} has no package folder")
    if any(folder.is_relative_to(installed) for installed in _site_packages()):
        raise ConfigError(
            f"plugin {plugin.name!r} is an installed copy in {folder.parent}: a revision written "
            "there is lost on the next install; install your checkout with `pip install -e "
            "<checkout>` (or pass --path <checkout>)"
        )
    return folder


def _site_packages() -> set[Path]:
    folders = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    folders |= {*site.getsitepackages(), site.getusersitepackages()}
    return {Path(folder).resolve() for folder in folders}
