"""Task: T-151
Spec: specs/features/plugins.md §Plugin author API

`documented(example)`: a pydantic model config for models that appear in the OpenAPI document.
"""

from typing import Any, Unpack

from pydantic import ConfigDict
from pydantic.config import JsonDict


def documented(*examples: dict[str, Any], **config: Unpack[ConfigDict]) -> ConfigDict:
    """The first example is the one shown; a field missing from it takes its example from the
    next one that has it. `config` is the rest of the model's `ConfigDict` (`extra="forbid"`)."""
    extra: JsonDict = {"examples": list(examples)}
    return ConfigDict(use_attribute_docstrings=True, json_schema_extra=extra, **config)
