"""The API contract in one place. Each operation declares its query, body and answers as pydantic
models; the same declaration validates the request, shapes the answer and writes /api/v1/openapi.json,
so the document cannot drift from the server."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, jsonify, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from werkzeug.exceptions import BadRequest

from triggers.validation import InvalidConfig
from warning.accounts import user_for_token
from warning.web import runtime
from warning.web.api_models import PATTERN_WORDS, Problem

JSON = "application/json"
PROBLEM = "application/problem+json"
ERROR_TITLES = {400: "a malformed request: NUL characters, or a body that is not a JSON object", 401: "no valid API token",
                403: "outside the caller's area or role", 404: "no such resource (or not visible to the caller)",
                409: "the resource's state does not allow it", 422: "invalid fields, each named"}


@dataclass(frozen=True)
class Operation:
    """What one API operation reads and answers. `answers` maps a status to a model (JSON) or to
    {media type: model or str}; `body` is a model (JSON) or a media type read as text."""
    summary: str
    answers: dict[int, Any]
    query: type[BaseModel] | None = None
    body: Any = None
    errors: tuple[int, ...] = ()
    path: dict[str, dict] = field(default_factory=dict)
    public: bool = False

    def error_statuses(self) -> list[int]:
        implied = {400, 422} | (set() if self.public else {401})  # 400: a NUL anywhere is refused app-wide
        return sorted(implied | set(self.errors))


def endpoint(summary: str, *, answers: dict[int, Any], query: type[BaseModel] | None = None, body: Any = None,
             errors: tuple[int, ...] = (), path: dict[str, dict] | None = None, public: bool = False):
    """Declare an operation: the wrapped view finds the caller in g.user, the query in g.query and the
    body in g.body, and returns a dict (200), (dict, status) or a Response."""
    operation = Operation(summary, answers, query, body, errors, path or {}, public)
    shapers = {status: TypeAdapter(model) for status, model in answers.items()
               if not isinstance(model, dict) and model is not None}
    body_reader = TypeAdapter(body) if body is not None and not isinstance(body, str) else None

    def wrap(view):
        @wraps(view)
        def run(*args, **kwargs):
            if not operation.public and (refusal := authenticate()) is not None:
                return refusal
            check_path(operation, kwargs)
            g.query = read_query(operation.query)
            g.body = read_body(operation.body, body_reader)
            return shaped(view(*args, **kwargs), shapers)
        run.operation = operation
        return run
    return wrap


def problem(status: int, title: str, detail: str = "", errors: list[dict] | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM
    return response


def authenticate() -> Response | None:
    """Find the caller by bearer token into g.user; a 401 answer when there is none."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    with runtime().sessions.begin() as session:
        user = user_for_token(session, token) if token else None
        if user is not None:
            session.expunge(user)
    if user is None:
        response = problem(401, "Unauthorized", "send a valid API token as 'Authorization: Bearer …'")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    g.user = user
    return None


def problems_of(error: ValidationError, tagged: bool = False) -> list[str]:
    """'field: message' per pydantic error, in words: an unknown field, a pattern by what it stands for.
    In a tagged union (`tagged`) the first step of each location is the tag, not a field."""
    lines = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"] if not str(part).startswith("function-")]
        if tagged:
            location = location[1:]
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            location = [item["ctx"]["discriminator"].strip("'")]
        lines.append(f"{'.'.join(location)}: {in_words(item)}")
    return lines


def in_words(item: dict) -> str:
    if item["type"] == "extra_forbidden":
        return "not a field of this operation"
    if item["type"] == "string_pattern_mismatch" and item["ctx"]["pattern"] in PATTERN_WORDS:
        return f"must be {PATTERN_WORDS[item['ctx']['pattern']]} (got {item['input']!r})"
    return item["msg"]


def check_path(operation: Operation, values: dict) -> None:
    for name, schema in operation.path.items():
        if not re.fullmatch(schema["pattern"], str(values.get(name, ""))):
            raise InvalidConfig([f"{name}: does not match {schema['pattern']}"])


def read_query(model: type[BaseModel] | None) -> BaseModel | None:
    args = request.args
    repeated = [name for name in args if len(args.getlist(name)) > 1]
    if repeated:
        raise InvalidConfig([f"{name}: given more than once" for name in repeated])
    if model is None:
        if args:
            raise InvalidConfig([f"{name}: not a parameter of this operation" for name in args])
        return None
    try:
        return model.model_validate(args.to_dict())
    except ValidationError as error:
        raise InvalidConfig(problems_of(error)) from None


def read_body(declared: Any, reader: TypeAdapter | None):
    if declared is None:
        return None
    if isinstance(declared, str):
        return request.get_data()
    if not isinstance(request.get_json(silent=True), dict):
        raise BadRequest("send a JSON object")
    try:  # strictly, from the JSON itself: "2" is not a number, 0 is not a date
        return reader.validate_json(request.get_data(), strict=True)
    except ValidationError as error:
        raise InvalidConfig(problems_of(error, tagged=not isinstance(declared, type))) from None


def shaped(result, shapers: dict[int, TypeAdapter]):
    if isinstance(result, Response):
        return result
    data, status = result if isinstance(result, tuple) else (result, 200)
    shaper = shapers.get(status)
    if shaper is not None:
        data = shaper.dump_python(shaper.validate_python(data), mode="json")
    response = jsonify(data)
    response.status_code = status
    if isinstance(data, dict) and {"page", "per_page", "total", "items"} <= data.keys():
        if links := page_links(data["page"], data["per_page"], data["total"]):
            response.headers["Link"] = links
    return response


def page_links(page: int, per_page: int, total: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages, keeping the other query parameters."""
    last = max(1, -(-total // per_page))
    targets = {"first": 1, "prev": page - 1 if page > 1 else None,
               "next": page + 1 if page < last else None, "last": last}
    args = {k: v for k, v in request.args.items() if k != "page"}
    return ", ".join(f'<{request.base_url}?{urlencode(args | {"page": number})}>; rel="{rel}"'
                     for rel, number in targets.items() if number is not None)


# The document

PATH_ARGUMENT = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def openapi_document(app, prefix: str = "/api/v1/") -> dict:
    operations = [(rule, method, app.view_functions[rule.endpoint].operation)
                  for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
                  if rule.rule.startswith(prefix) and hasattr(app.view_functions[rule.endpoint], "operation")
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    operations = [entry for entry in operations if not entry[2].public]
    refs, definitions = component_schemas(operations)
    paths: dict[str, dict] = {}
    for rule, method, operation in operations:
        path, parameters = path_and_parameters(rule.rule, operation)
        paths.setdefault(path, {})[method.lower()] = describe(operation, parameters, refs)
    return {"openapi": "3.1.0",
            "info": {"title": "coldwarn API", "version": "1",
                     "description": "Cold-weather warnings and relief tasks. Authenticate with "
                                    "'Authorization: Bearer <token>'. Generated from the models that "
                                    "validate each request and shape each answer."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": definitions},
            "security": [{"bearer": []}],
            "paths": paths}


def models_of(operation: Operation) -> list[tuple[Any, str]]:
    found = [(Problem, "serialization")]
    if operation.body is not None and not isinstance(operation.body, str):
        found.append((operation.body, "validation"))
    for answer in operation.answers.values():
        for model in (answer.values() if isinstance(answer, dict) else [answer]):
            if model is not None and model is not str:
                found.append((model, "serialization"))
    return found


def component_schemas(operations) -> tuple[dict, dict]:
    """Every body and answer model's schema, with shared parts as components; {(model, mode): schema}."""
    wanted = {(id(model), mode): model for _, _, op in operations for model, mode in models_of(op)}
    generator = GenerateJsonSchema(ref_template="#/components/schemas/{model}")
    mapping, definitions = generator.generate_definitions(
        [(key, key[1], TypeAdapter(model).core_schema) for key, model in wanted.items()])
    return {key: schema for (key, _mode), schema in mapping.items()}, definitions


def path_and_parameters(rule: str, operation: Operation) -> tuple[str, list[dict]]:
    parameters = []
    for converter, arguments, name in PATH_ARGUMENT.findall(rule):
        if converter == "int":  # werkzeug's int converter takes digits only; `max` is its bound
            bound = re.search(r"max=(\d+)", arguments)
            schema = {"type": "integer", "minimum": 0, **({"maximum": int(bound.group(1))} if bound else {})}
        else:
            schema = {"type": "string", **operation.path.get(name, {})}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if operation.query is not None:
        schema = operation.query.model_json_schema(ref_template="#/components/schemas/{model}")
        required = set(schema.get("required", []))
        parameters += [{"name": name, "in": "query", "required": name in required, "schema": property_schema,
                        **({"description": property_schema["description"]} if "description" in property_schema else {})}
                       for name, property_schema in schema["properties"].items()]
    return PATH_ARGUMENT.sub(lambda m: "{" + m.group(3) + "}", rule), parameters


def describe(operation: Operation, parameters: list[dict], refs: dict) -> dict:
    described: dict[str, Any] = {"summary": operation.summary, "parameters": parameters}
    if operation.body is not None:
        content = ({operation.body: {"schema": {"type": "string"}}} if isinstance(operation.body, str)
                   else {JSON: {"schema": refs[(id(operation.body), "validation")]}})
        described["requestBody"] = {"required": True, "content": content}
    responses = {}
    for status, answer in operation.answers.items():
        media = answer if isinstance(answer, dict) else {JSON: answer}
        responses[str(status)] = {"description": "success", "content": {
            kind: {"schema": {"type": "string"} if model is str else refs[(id(model), "serialization")]}
            for kind, model in media.items()}}
    for status in operation.error_statuses():
        responses[str(status)] = {"description": ERROR_TITLES[status], "content": {
            PROBLEM: {"schema": refs[(id(Problem), "serialization")]}}}
    described["responses"] = responses
    return described

