"""The published event schemas: in step with the code, valid JSON Schema, and able to refuse a bad event."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from notifiers.schemas import EVENT_MODELS, PUBLISHED, event_schema, schema_file
from warning.config import EVENT_TYPES

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_every_event_type_and_the_batch_have_a_published_schema_in_step_with_the_code():
    assert set(EVENT_MODELS) == set(EVENT_TYPES) and set(PUBLISHED) == {*EVENT_TYPES, "batch", "ping"}
    assert {p.name for p in SCHEMAS.glob("*.json")} == {f"{t}.v1.json" for t in PUBLISHED}
    for event_type in PUBLISHED:  # `make schemas` rewrites them after a deliberate change
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


BATCH = {"type": "batch", "timestamp": "2026-01-19T00:00:00Z",
         "data": {"schema_version": 1, "events": [GOOD | {"id": "msg_1"}]}}


@pytest.mark.parametrize("events", [
    [], [GOOD], [GOOD | {"id": "msg_1", "type": "feed.exploded"}], [GOOD | {"id": "msg_1", "timestamp": "yesterday"}],
])
def test_a_bad_batch_is_refused(events):
    jsonschema.validate(BATCH, event_schema("batch"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(BATCH | {"data": BATCH["data"] | {"events": events}}, event_schema("batch"))
