"""The API for verification: how the triggers scored against what later cycles saw."""

from __future__ import annotations

from flask import g

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
    with runtime().sessions() as session:
        return verification(session, Query.checked(q.since, q.until, q.by, q.province))
