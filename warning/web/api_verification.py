"""The API for verification: how the triggers scored against what later cycles saw."""

from __future__ import annotations

from datetime import datetime

from flask import g

from triggers.validation import InvalidConfig

from warning.verification import Query, verification
from warning.web import api_models as m
from warning.web import runtime
from warning.web.api import api
from warning.web.contract import endpoint


@api.get("/verification")
@endpoint("Every daily trigger scored against what followed, from the stored cycles: hits, misses, false alarms, "
          "POD, FAR, CSI, warning lead times; for ensemble shares the Brier score and a reliability table",
          query=m.VerificationQuery, answers={200: m.Verification})
def verification_scores():
    q = g.query
    query = Query.checked(instant(q.since, "since"), instant(q.until, "until"), q.by, q.province)
    with runtime().sessions() as session:
        return verification(session, query)


def instant(text: str | None, field: str) -> datetime | None:
    """An ISO 8601 time with its zone (the pattern checked the form), or a 422 naming the field."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidConfig([f"{field}: not a date and time: {text!r}"]) from None
