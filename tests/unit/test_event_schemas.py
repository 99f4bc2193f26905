"""The published event schemas: in step with the code, valid JSON Schema, and able to refuse a bad event."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from notifiers.schemas import EVENT_MODELS, event_schema, schema_file
from warning.config import EVENT_TYPES

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_every_event_type_has_a_published_schema_in_step_with_the_code():
    assert set(EVENT_MODELS) == set(EVENT_TYPES)
    assert {p.name for p in SCHEMAS.glob("*.json")} == {f"{t}.v1.json" for t in EVENT_TYPES}
    for event_type in EVENT_TYPES:  # `make schemas` rewrites them after a deliberate change
        assert (SCHEMAS / f"{event_type}.v1.json").read_text(encoding="utf-8") == schema_file(event_type), event_type
        jsonschema.Draft202012Validator.check_schema(event_schema(event_type))


GOOD = {"type": "feed.stale", "timestamp": "2026-01-19T00:00:00Z",
        "data": {"schema_version": 1, "feed": "forecast", "data_as_of": None, "stale_since": "2026-01-19T00:00:00Z",
                 "max_age_h": 12, "added_later": "receivers ignore it"}}


@pytest.mark.parametrize("change", [
    {"feed": "radar"}, {"schema_version": 2}, {"stale_since": "2026-01-19 08:00"}, {"max_age_h": "twelve"},
])
def test_a_bad_event_is_refused(change):
    jsonschema.validate(GOOD, event_schema("feed.stale"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(GOOD | {"data": GOOD["data"] | change}, event_schema("feed.stale"))
