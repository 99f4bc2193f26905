"""The OpenAPI 3 description of /api/v1 (kept beside the code it describes)."""

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def errors(*codes: int) -> dict:
    return {str(c): {"description": "problem details (RFC 9457)",
                     "content": {"application/problem+json": {"schema": PROBLEM}}} for c in codes}


PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
          {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]

MANUAL_CPI = {"type": "object", "properties": {
    "area_code": {"type": "string", "pattern": "^[0-9]{6}$"}, "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
    "cpi_yoy": {"type": "number"}, "food_cpi_yoy": {"type": "number"}, "released_on": {"type": "string"},
    "entered_by": {"type": "string"}, "reason": {"type": "string"}, "entered_at": {"type": "string"}}}


def page_of(item: dict) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
        "items": {"type": "array", "items": item}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "total": {"type": "integer"}}}


OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "coldwarn API", "version": "1",
             "description": "Cold-weather warnings and relief tasks. Authenticate with 'Authorization: Bearer <token>'."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Problem": {"type": "object", "required": ["title", "status"], "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "message": {"type": "string"}}}}}}},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/cpi/manual": {
            "get": {"summary": "Hand-entered CPI figures the caller may see", "parameters": PAGING,
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of(MANUAL_CPI)}}}, **errors(401, 422)}},
            "post": {"summary": "Enter or correct one area's CPI figures for one month (audited)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["area_code", "month", "cpi_yoy", "food_cpi_yoy", "released_on", "reason"],
                         "properties": {"area_code": {"type": "string"}, "month": {"type": "string"},
                                        "cpi_yoy": {"type": "number"}, "food_cpi_yoy": {"type": "number"},
                                        "released_on": {"type": "string", "format": "date"}, "reason": {"type": "string"}}}}}},
                     "responses": {"201": {"description": "stored", "content": {"application/json": {"schema": MANUAL_CPI}}},
                                   **errors(400, 401, 403, 422)}},
        },
        "/api/v1/feed-runs": {
            "get": {"summary": "Feed pulls, newest first", "parameters": PAGING,
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of({"type": "object"})}}}, **errors(401, 422)}},
        },
    },
}
