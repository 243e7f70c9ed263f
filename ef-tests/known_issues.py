"""The machine-readable part of known_issues.md: which fixture tests fail, in which pass, why.

Rows of the markdown table under "## Expected failures" read
``| pass | `test path fragment` | reason |``. A selected test whose id
contains the fragment runs as a strict expected failure: it is reported as
"xfailed" with the reason, and if it starts passing the run fails, so the
entry cannot outlive the bug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KNOWN_ISSUES = Path(__file__).resolve().parent / "known_issues.md"
_ROW = re.compile(r"^\|\s*(\w+)\s*\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|\s*$")


@dataclass(frozen=True)
class KnownIssue:
    pass_name: str
    fragment: str
    reason: str


def load_known_issues(path: Path = KNOWN_ISSUES) -> list[KnownIssue]:
    issues, in_table = [], False
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            in_table = line.strip() == "## Expected failures"
        elif in_table and (match := _ROW.match(line)) and match.group(1) != "pass":
            issues.append(KnownIssue(*match.groups()))
    return issues


def known_issue_for(test_id: str, pass_name: str, issues: list[KnownIssue]) -> KnownIssue | None:
    return next((i for i in issues if i.pass_name == pass_name and i.fragment in test_id), None)
