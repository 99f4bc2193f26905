"""The OpenAPI 3 description of /api/v1 (kept beside the code it describes)."""

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def errors(*codes: int) -> dict:
    return {str(c): {"description": "problem details (RFC 9457)",
                     "content": {"application/problem+json": {"schema": PROBLEM}}} for c in codes}


CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{6}([0-9]{3})?$"}}
PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
          {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]

MANUAL_CPI = {"type": "object", "properties": {
    "area_code": {"type": "string", "pattern": "^[0-9]{6}$"}, "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
    "cpi_yoy": {"type": "number"}, "food_cpi_yoy": {"type": "number"}, "released_on": {"type": "string"},
    "entered_by": {"type": "string"}, "reason": {"type": "string"}, "entered_at": {"type": "string"}}}

NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
MESSAGE_ID = {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}
QUEUED = {"type": "object", "properties": {"queued": {"type": "integer"}}}
STRINGS = {"type": "array", "items": {"type": "string"}}
CHANNEL = {"type": "string", "enum": ["webhook", "wecom", "dingtalk", "email", "sms"]}
SUBSCRIPTION = {"type": "object", "properties": {
    "name": {"type": "string"}, "channel": CHANNEL, "url": {"type": "string"}, "regions": STRINGS, "events": STRINGS,
    "format": {"type": "string"}, "lang": {"type": "string"}, "recipients": {"type": "integer"},
    "batch": {"type": "integer", "nullable": True}, "source": {"type": "string"}, "enabled": {"type": "boolean"},
    "disabled_reason": {"type": "string", "nullable": True},
    "failing_since": {"type": "string", "nullable": True}, "created_at": {"type": "string"},
    "parked": {"type": "integer"}}}
NEW_SUBSCRIPTION = {"type": "object", "required": ["name", "url"], "properties": {
    "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}, "channel": CHANNEL,
    "url": {"type": "string", "description": "http(s) URL; e-mail: mailto:a@x,b@y"},
    "secrets": {**STRINGS, "description": "webhook: whsec_… (1-3); dingtalk: SEC…; sms: optional gateway key"},
    "regions": STRINGS, "events": STRINGS, "format": {"type": "string", "enum": ["json", "cap"]},
    "lang": {"type": "string", "enum": ["zh", "en"]}, "to": {**STRINGS, "description": "sms: phone numbers"},
    "body": {"type": "object", "description": "sms: JSON body with {to} {to_list} {text} {id} {secret}"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "batch": {"type": "integer", "minimum": 1, "maximum": 1000,
              "description": "JSON webhooks: up to this many events per signed POST, as one `batch` body"}}}
DELIVERY = {"type": "object", "properties": {
    "message_id": {"type": "string"}, "subscription": {"type": "string"}, "event_type": {"type": "string"},
    "status": {"type": "string", "enum": ["pending", "delivered", "parked"]}, "attempts": {"type": "integer"},
    "created_at": {"type": "string"}, "next_attempt_at": {"type": "string", "nullable": True},
    "delivered_at": {"type": "string", "nullable": True}, "last_error": {"type": "string", "nullable": True}}}


REGION = {"type": "object", "properties": {
    "code": {"type": "string"}, "name": {"type": "string"},
    "prefecture": {"type": "object"}, "province": {"type": "object"}, "timezone": {"type": "string"}}}
AREA = {"name": "region", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{6}([0-9]{3})?$"},
        "description": "a township, a county, a prefecture (xxxx00) or a province (xx0000)"}
ALERT = {"type": "object", "description": "as in the alert.issued webhook, plus issued, updated and resolved times",
         "properties": {"alert_id": {"type": "integer"}, "region": REGION, "hazard": {"type": "string"},
                        "status": {"type": "string", "enum": ["open", "resolved"]}, "level": {"type": "string"},
                        "stage": {"type": "string"}, "onset": {"type": "string"}, "ends": {"type": "string"},
                        "evidence": {"type": "object"}, "rule_version": {"type": "string"},
                        "issued_at": {"type": "string"}, "resolved_at": {"type": "string", "nullable": True}}}
DECISION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "region_code": {"type": "string"}, "hazard": {"type": "string"},
    "action": {"type": "string", "enum": ["raise", "stand_down"]}, "level": {"type": "string", "nullable": True},
    "reason": {"type": "string"}, "actor": {"type": "string"}, "created_at": {"type": "string"},
    "expires_at": {"type": "string"}, "cleared_at": {"type": "string", "nullable": True},
    "cleared_by": {"type": "string", "nullable": True}}}
RULES_TEXT = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string", "description": "the whole rules.yaml as YAML text"}}}


def json_response(description: str, schema: dict, status: str = "200") -> dict:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


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
        "/api/v1/regions/{code}/tasks": {
            "get": {"summary": "A county's tasks (optionally ?status=open,acknowledged)",
                    "parameters": [CODE, {"name": "status", "in": "query", "schema": {"type": "string"}}, *PAGING],
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of({"type": "object"})}}}, **errors(401, 403, 404, 422)}},
        },
        "/api/v1/tasks/{task_id}/status": {
            "post": {"summary": "Move a task on: acknowledged, in_progress, done, not_needed (with a note)",
                     "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["status"], "properties": {
                             "status": {"type": "string", "enum": ["acknowledged", "in_progress", "done", "not_needed"]},
                             "note": {"type": "string"}}}}}},
                     "responses": {"200": {"description": "the task", "content": {"application/json": {
                         "schema": {"type": "object"}}}}, **errors(400, 401, 403, 404, 422)}},
        },
        "/api/v1/regions/{code}/sheet": {
            "get": {"summary": "A county's task sheet as JSON, printable A4 HTML or markdown",
                    "parameters": [CODE, {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "html", "md"]}},
                                   {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["zh", "en"]}}],
                    "responses": {"200": {"description": "the sheet", "content": {
                        "application/json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}},
                        "text/markdown": {"schema": {"type": "string"}}}}, **errors(401, 403, 404, 422)}},
        },
        "/api/v1/progress": {
            "get": {"summary": "Task progress per province, prefecture or county",
                    "parameters": [{"name": "by", "in": "query", "schema": {"type": "string", "enum": ["province", "prefecture", "county"]}}],
                    "responses": {"200": {"description": "rows", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}}}},
                        **errors(401, 403, 422)}},
        },
        "/api/v1/caseload": {
            "get": {"summary": "Caseload the caller may see, as CSV",
                    "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                                  **errors(401)}},
            "post": {"summary": "Import caseload CSV (all rows or none; only counties in the caller's area)",
                     "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
                     "responses": {"201": {"description": "imported", "content": {"application/json": {"schema": {
                         "type": "object", "properties": {"imported": {"type": "integer"}}}}}}, **errors(401, 403, 422)}},
        },
        "/api/v1/shelters": {
            "post": {"summary": "Import cold-shelter CSV (replaces the lists of the counties named)",
                     "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
                     "responses": {"201": {"description": "imported", "content": {"application/json": {"schema": {
                         "type": "object", "properties": {"imported": {"type": "integer"}}}}}}, **errors(401, 403, 422)}},
        },
        "/api/v1/subscriptions": {
            "get": {"summary": "Subscriptions the caller may see (no secrets; robot keys hidden), with parked counts",
                    "parameters": PAGING,
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of(SUBSCRIPTION)}}}, **errors(401, 422)}},
            "post": {"summary": "Add a subscription (province and county users: inside their area, county events only)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": NEW_SUBSCRIPTION}}},
                     "responses": {"201": {"description": "added", "content": {"application/json": {"schema": SUBSCRIPTION}}},
                                   **errors(400, 401, 403, 422)}},
        },
        "/api/v1/subscriptions/{name}": {
            "delete": {"summary": "Remove (disable) a subscription added by API or CLI; what it still had is parked",
                       "parameters": [NAME],
                       "responses": {"200": {"description": "removed", "content": {"application/json": {"schema": {
                           "type": "object", "properties": {"removed": {"type": "string"}, "parked": {"type": "integer"}}}}}},
                           **errors(401, 403, 404, 422)}},
        },
        "/api/v1/subscriptions/{name}/replay": {
            "post": {"summary": "Queue again everything parked for this subscription (optionally since a time)",
                     "parameters": [NAME],
                     "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                         "since": {"type": "string", "format": "date-time"}}}}}},
                     "responses": {"200": {"description": "queued", "content": {"application/json": {"schema": QUEUED}}},
                                   **errors(401, 403, 404, 422)}},
        },
        "/api/v1/deliveries": {
            "get": {"summary": "Outbox messages of the subscriptions the caller may see, newest first",
                    "parameters": [{"name": "status", "in": "query", "schema": {"type": "string"},
                                    "description": "comma-separated: pending, delivered, parked"},
                                   {"name": "subscription", "in": "query", "schema": {"type": "string"}}, *PAGING],
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of(DELIVERY)}}}, **errors(401, 422)}},
        },
        "/api/v1/deliveries/{message_id}": {
            "get": {"summary": "One message with its body and every attempt (time, outcome, status, latency, error)",
                    "parameters": [MESSAGE_ID],
                    "responses": {"200": {"description": "the message", "content": {"application/json": {
                        "schema": DELIVERY}}}, **errors(401, 404)}},
        },
        "/api/v1/deliveries/{message_id}/replay": {
            "post": {"summary": "Queue one parked message again, with its original webhook-id",
                     "parameters": [MESSAGE_ID],
                     "responses": {"200": {"description": "queued", "content": {"application/json": {"schema": QUEUED}}},
                                   **errors(401, 403, 404, 409)}},
        },
        "/api/v1/cycle-runs": {
            "get": {"summary": "Cycles, newest first: status, as-of time, summary with counts and stage timings",
                    "parameters": PAGING,
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of({"type": "object"})}}}, **errors(401, 422)}},
        },
        "/api/v1/job-runs": {
            "get": {"summary": "Scheduled job runs that did something or failed, per instance, newest first",
                    "parameters": [{"name": "job", "in": "query", "schema": {"type": "string",
                                                                         "enum": ["cycle", "deliver", "prune"]}},
                                   *PAGING],
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of({"type": "object"})}}}, **errors(401, 422)}},
        },
        "/api/v1/regions": {
            "get": {"summary": "Counties the caller may see with their highest open level (null when calm)",
                    "parameters": [{"name": "province", "in": "query", "schema": {"type": "string"}},
                                   {"name": "level", "in": "query", "schema": {"type": "string", "enum": [
                                       "blue", "yellow", "orange", "red", "none"]}}, *PAGING],
                    "responses": {**json_response("a page", page_of({"allOf": [REGION, {"type": "object", "properties": {
                        "level": {"type": "string", "nullable": True}, "open_alerts": {"type": "integer"},
                        "assessed": {"type": "boolean"}}}]})), **errors(401, 422)}},
        },
        "/api/v1/regions/{code}": {
            "get": {"summary": "A county: the thresholds that apply to it (after overrides) and its alerts, newest first",
                    "parameters": [CODE],
                    "responses": {**json_response("the region", {"allOf": [REGION, {"type": "object", "properties": {
                        "rule_version": {"type": "string"}, "thresholds": {"type": "object"},
                        "alerts": {"type": "array", "items": ALERT}}}]}), **errors(401, 403, 404)}},
        },
        "/api/v1/alerts": {
            "get": {"summary": "Alerts the caller may see, newest first",
                    "parameters": [{"name": "status", "in": "query", "schema": {"type": "string"}},
                                   {"name": "hazard", "in": "query", "schema": {"type": "string"}},
                                   {"name": "level", "in": "query", "schema": {"type": "string"}}, AREA, *PAGING],
                    "responses": {**json_response("a page", page_of(ALERT)), **errors(401, 422)}},
        },
        "/api/v1/alerts/manual": {
            "get": {"summary": "Manual raises and stand-downs not cleared, in the caller's area", "parameters": PAGING,
                    "responses": {**json_response("a page", page_of(DECISION)), **errors(401, 422)}},
            "post": {"summary": "Raise an alert by hand or stand one down for some hours (audited); cycles respect it",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["region_code", "hazard", "action", "reason"], "properties": {
                             "region_code": {"type": "string"}, "hazard": {"type": "string"},
                             "action": {"type": "string", "enum": ["raise", "stand_down"]},
                             "level": {"type": "string", "enum": ["blue", "yellow", "orange", "red"]},
                             "hours": {"type": "number", "minimum": 1, "maximum": 336, "default": 24},
                             "reason": {"type": "string"}}}}}},
                     "responses": {**json_response("recorded", DECISION, "201"), **errors(400, 401, 403, 404, 422)}},
        },
        "/api/v1/alerts/manual/{decision_id}": {
            "delete": {"summary": "Clear a manual decision; the forecast decides again from the next cycle",
                       "parameters": [{"name": "decision_id", "in": "path", "required": True,
                                       "schema": {"type": "integer"}}],
                       "responses": {**json_response("cleared", DECISION), **errors(401, 403, 404, 422)}},
        },
        "/api/v1/subsidies": {
            "get": {"summary": "Price-linkage decisions (one per county and month) the caller may see",
                    "parameters": [{"name": "month", "in": "query", "schema": {"type": "string"}}, AREA,
                                   {"name": "started", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
                                   *PAGING],
                    "responses": {**json_response("a page", page_of({"type": "object"})), **errors(401, 422)}},
        },
        "/api/v1/rules": {
            "get": {"summary": "The threshold rules in force: version, YAML text as written, parsed content",
                    "responses": {**json_response("the rules", {"type": "object", "properties": {
                        "version": {"type": "string"}, "text": {"type": "string"}, "content": {"type": "object"}}}),
                        **errors(401)}},
            "put": {"summary": "Admins: put new rules in force from the next cycle, with a reason (versioned, audited)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["text", "reason"], "properties": {
                            "text": {"type": "string"}, "reason": {"type": "string"}}}}}},
                    "responses": {**json_response("in force from the next cycle", {"type": "object", "properties": {
                        "version": {"type": "string"}}}), **errors(400, 401, 403, 422)}},
        },
        "/api/v1/rules/validate": {
            "post": {"summary": "Check rules YAML as a cycle would; 422 names every problem by rule key",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": RULES_TEXT}}},
                     "responses": {**json_response("valid", {"type": "object", "properties": {
                         "valid": {"type": "boolean"}, "version": {"type": "string"}}}), **errors(400, 401, 422)}},
        },
        "/api/v1/rules/preview": {
            "post": {"summary": "Admins: the alerts edited rules would have raised over the last days of stored "
                                "forecasts, compared with the rules in force",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "allOf": [RULES_TEXT, {"type": "object", "properties": {
                             "days": {"type": "integer", "minimum": 1, "maximum": 30, "default": 7}}}]}}}},
                     "responses": {**json_response("the comparison", {"type": "object", "properties": {
                         "cycles_replayed": {"type": "integer"}, "totals": {"type": "object"},
                         "changes": {"type": "array", "items": {"type": "object", "properties": {
                             "region_code": {"type": "string"}, "hazard": {"type": "string"},
                             "current_level": {"type": "string", "nullable": True},
                             "edited_level": {"type": "string", "nullable": True},
                             "change": {"type": "string", "enum": ["added", "raised", "lowered", "removed"]}}}}}}),
                         **errors(400, 401, 403, 422)}},
        },
        "/api/v1/rules/versions": {
            "get": {"summary": "Every rule version that has been in force: when, who, why", "parameters": PAGING,
                    "responses": {**json_response("a page", page_of({"type": "object"})), **errors(401, 422)}},
        },
        "/api/v1/audit": {
            "get": {"summary": "Admins and viewers: who changed what, when and why, newest first",
                    "parameters": [{"name": "actor", "in": "query", "schema": {"type": "string"}},
                                   {"name": "action", "in": "query", "schema": {"type": "string"},
                                    "description": "a prefix, such as rules. or alert."}, *PAGING],
                    "responses": {**json_response("a page", page_of({"type": "object"})), **errors(401, 403, 422)}},
        },
        "/api/v1/feed-runs": {
            "get": {"summary": "Feed pulls, newest first", "parameters": PAGING,
                    "responses": {"200": {"description": "a page", "content": {"application/json": {
                        "schema": page_of({"type": "object"})}}}, **errors(401, 422)}},
        },
    },
}
