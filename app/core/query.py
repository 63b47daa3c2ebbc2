"""Task: T-096
Spec: specs/features/plugins.md §Plugin author API

A pydantic model read from the query string, for hot routes.

FastAPI can take a model as `Annotated[Model, Query()]`, but it then inspects every field's
annotation on every request; for a list route that was the largest single cost in the request.
`QueryParameters(Model).parse(request)` validates the query string with the model in one
pydantic call, answers a bad value exactly as FastAPI would (422 with `loc: ["query", …]`),
and `openapi` documents the same parameters for the route's `openapi_extra`.
"""

from typing import Any, Generic, TypeVar, get_origin

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

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
        self.openapi = {"parameters": self._parameters()}

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

    def _parameters(self) -> list[dict[str, Any]]:
        schema = self.model.model_json_schema(ref_template="#/components/schemas/{model}")
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
            parameters.append(parameter)
        return parameters
