"""Every move of a task's status, allowed or refused."""

from __future__ import annotations

from itertools import product

import pytest

from triggers.tasks import NEXT, STATES, IllegalTransition, check_transition, is_overdue
from tests.unit.helpers import at

ALLOWED = {("open", "acknowledged"), ("open", "not_needed"), ("acknowledged", "in_progress"),
           ("acknowledged", "done"), ("acknowledged", "not_needed"), ("in_progress", "done"),
           ("in_progress", "not_needed")}


@pytest.mark.parametrize("current, new", list(product(STATES, STATES)))
def test_every_transition(current, new):
    if (current, new) in ALLOWED:
        check_transition(current, new, "a note")
    else:
        with pytest.raises(IllegalTransition, match=f"a task that is {current} cannot become {new}"):
            check_transition(current, new, "a note")


def test_the_table_is_the_one_tested():
    assert {(a, b) for a, nexts in NEXT.items() for b in nexts} == ALLOWED


def test_not_needed_needs_a_reason():
    with pytest.raises(IllegalTransition, match="a note is required"):
        check_transition("open", "not_needed", "  ")


def test_unknown_status():
    with pytest.raises(IllegalTransition, match="unknown status 'finished'"):
        check_transition("open", "finished", None)


def test_overdue_only_while_active():
    due, now = at("2026-01-19T00:00:00"), at("2026-01-19T01:00:00")
    assert is_overdue("acknowledged", due, now) and not is_overdue("done", due, now)
    assert not is_overdue("open", now, due)
