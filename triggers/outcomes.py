"""What a county reports it has done for a task, as figures: each a measure of the playbook (街面巡查,
次) and a running total for that task. Checked here, without storage: whole numbers from 0, only the
task's own measures; a figure implausible against the caseload is flagged for review, not refused.
A chat reply ("任务 1234 巡查 12 救助 30 棉被 5") is read into the same figures."""

from __future__ import annotations

import re

from triggers.playbook import Playbook
from triggers.validation import InvalidConfig

MAX_FIGURE = 10**12  # more than any county could count; a larger one is a typing slip
SEPARATORS = r"[\s,，;；、。.]*"


def checked_figures(playbook: Playbook, task_type: str, figures: object, source: str = "figures") -> dict[str, int]:
    """The figures as {measure: whole number}; InvalidConfig naming every one that is not."""
    allowed = playbook.measures_of(task_type)
    if not isinstance(figures, dict) or not figures:
        raise InvalidConfig([f"{source}: give at least one figure, as {{measure: number}} (this task's measures: "
                             f"{', '.join(allowed) or 'none'})"])
    problems = []
    for measure, value in figures.items():
        if measure not in allowed:
            problems.append(f"{source}.{measure}: not a measure of a {task_type} task (its measures: "
                            f"{', '.join(allowed) or 'none'})")
        elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_FIGURE:
            problems.append(f"{source}.{measure}: must be a whole number from 0 (got {value!r})")
    if problems:
        raise InvalidConfig(problems)
    return dict(figures)


def reviews(playbook: Playbook, figures: dict[str, int], previous: dict[str, int], caseload: dict | None) -> dict[str, dict]:
    """Why each figure deserves a second look, as {measure: {kind, limit}}: below what the task reported
    before (a running total only falls by correction), or above what its caseload makes plausible."""
    flagged = {}
    for measure, value in figures.items():
        plausible = playbook.measures[measure].plausible
        if measure in previous and value < previous[measure]:
            flagged[measure] = {"kind": "lower_than_before", "limit": previous[measure]}
        elif plausible and caseload is not None:
            limit = plausible.times * sum(int(caseload[column]) for column in plausible.caseload)
            if value > limit:
                flagged[measure] = {"kind": "above_caseload", "limit": round(limit)}
    return flagged


def read_reply(text: str, playbook: Playbook) -> tuple[int, dict[str, int]]:
    """A chat reply: the task's number first (任务 1234, task 1234, #1234), then each measure by any of
    its words followed by its figure, a Chinese unit after it optional (巡查12次，救助30人次). InvalidConfig
    names what could not be read."""
    words = {word.casefold(): key for key, m in playbook.measures.items()
             for word in (key, m.name.zh, m.name.en, *m.aliases)}
    units = sorted({m.unit.zh for m in playbook.measures.values()}, key=len, reverse=True)  # (English ones
    # are words that name measures too: "helped 4 quilts 2")
    head = re.match(r"\s*(?:任务|task)?\s*[#＃]?\s*(\d{1,10})\b", text, re.I)
    if not head:
        raise InvalidConfig(["text: begin with the task's number, as in 任务 1234 巡查 12 (task 1234 patrols 12)"])
    pair = re.compile(rf"{SEPARATORS}(?P<word>[^\d\s,，;；、:：=]+(?: [A-Za-z-]+)*)\s*[:：=]?\s*(?P<figure>\d+)"
                      rf"\s*(?:{'|'.join(map(re.escape, units))})?(?![A-Za-z\u4e00-\u9fff]*\d)")
    figures, problems, at = {}, [], head.end()
    for match in pair.finditer(text, at):
        if text[at:match.start()].strip(" ,，;；、。."):
            break
        measure = words.get(match["word"].strip().casefold())
        if measure is None:
            problems.append(f"text: “{match['word']}” is not a measure (known: {', '.join(sorted(playbook.measures))})")
        elif measure in figures:
            problems.append(f"text: {measure} is given twice")
        else:
            figures[measure] = int(match["figure"])
        at = match.end()
    rest = text[at:].strip(" ,，;；、。.\n")
    if rest:
        problems.append(f"text: cannot read “{rest[:40]}”: give each measure and its figure, as 巡查 12")
    if not figures and not problems:
        problems.append("text: no figures after the task's number")
    if problems:
        raise InvalidConfig(problems)
    return int(head.group(1)), figures
