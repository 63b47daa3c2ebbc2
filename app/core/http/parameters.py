"""Task: T-096, T-109, T-151
Spec: specs/features/plugins.md §Plugin author API

A pydantic model read from the query string, for hot routes.
"""

from typing import Any, Generic, TypeVar, get_origin

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app.core.http.openapi import INVALID_REQUEST, REF, SCHEMAS_KEY
from app.core.http.problems import invalid

M = TypeVar("M", bound=BaseModel)


class QueryParameters(Generic[M]):
    def __init__(self, model: type[M]) -> None:
        self.model = model
        # Fields that take a repeated parameter (`?tag=a&tag=b`).
        self.lists = frozenset(
            name
            for name, field in model.model_fields.items()
            if get_origin(field.annotation) is list
        )
        schema = model.model_json_schema(ref_template=REF + "{model}")
        # FastAPI declares the 422 of the parameters it reads itself; these it does not see
        # (the kernel gives it its problem body).
        self.openapi: dict[str, Any] = {
            "parameters": self._parameters(schema),
            "responses": {"422": {"description": INVALID_REQUEST}},
            SCHEMAS_KEY: schema.get("$defs", {}),
        }

    def parse(self, request: Request) -> M:
        params = request.query_params
        values: dict[str, Any] = {
            key: params.getlist(key) if key in self.lists else params[key] for key in params
        }
        try:
            return self.model.model_validate(values)
        except ValidationError as exc:
            errors = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
            raise RequestValidationError(errors) from None

    def _parameters(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        example = (schema.get("examples") or [{}])[0]
        parameters = []
        for name, field_schema in schema["properties"].items():
            field = self.model.model_fields[name]
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": field.is_required(),
                "schema": field_schema,
            }
            if field.description:
                parameter["description"] = field.description
            if name in example:
                parameter["example"] = example[name]
            parameters.append(parameter)
        return parameters


def page_size(limit: int | None, default: int, maximum: int) -> int:
    """The page size a list asked for (`limit`, else `default`); above `maximum` it is the 422
    FastAPI would give for `le=maximum`, naming `limit`."""
    size = limit or default
    if size > maximum:
        raise invalid(("query", "limit"), f"must be at most {maximum}", "less_than_equal")
    return size
