"""ef-tests/known_issues.py: the expected-failure table is read exactly as written."""

from __future__ import annotations

from pathlib import Path

from known_issues import KNOWN_ISSUES, known_issue_for, load_known_issues

TABLE = """# Known issues

## Expected failures

| pass | test | reason |
|---|---|---|
| streaming | `prague/x/test_a` | py-evm charges 2 gas too much |
| merkle | `amsterdam/y` | something else |

## Notes

| streaming | `not/in/the/table` | ignored: another section |
"""


def test_rows_of_the_expected_failures_table_only(tmp_path: Path) -> None:
    path = tmp_path / "known_issues.md"
    path.write_text(TABLE)
    issues = load_known_issues(path)
    assert [(i.pass_name, i.fragment) for i in issues] == [
        ("streaming", "prague/x/test_a"),
        ("merkle", "amsterdam/y"),
    ]
    hit = known_issue_for("blockchain_tests/for_prague/prague/x/test_a[fork_Prague]", "streaming", issues)
    assert hit is not None and hit.reason == "py-evm charges 2 gas too much"
    assert known_issue_for("blockchain_tests/for_prague/prague/x/test_a[fork]", "merkle", issues) is None
    assert known_issue_for("not/in/the/table", "streaming", issues) is None


def _expected_failure_rows(text: str) -> int:
    """The table rows under "## Expected failures", header and separator left out."""
    section = text.split("## Expected failures", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return max(len(rows) - 2, 0)


def test_the_project_file_parses() -> None:
    issues = load_known_issues(KNOWN_ISSUES)
    # Every row is read (a parser that skipped them would leave nothing to check below).
    assert len(issues) == _expected_failure_rows(KNOWN_ISSUES.read_text())
    for issue in issues:
        assert issue.reason and issue.fragment and issue.pass_name in {"merkle", "streaming", "bal", "pyevm"}
