"""List every exception the fixtures expect, the rule balrex rejected each block with, and the verdict.

    python ef-tests/rejections.py [--pass streaming] [--only FRAGMENT] [--every N] SOURCE...

SOURCE is a fixture directory, JSON file or release archive, as for the
runner. Only tests holding a block the fixture expects to be invalid run. For
every pair (expected exception, rule) the listing gives the count, whether
``exception_map`` accepts the rule for the exception (``ok``, ``WRONG``, or
``UNKNOWN`` for an exception name the table lacks) and one example test with
the rejection's message; tests that fail for another reason are listed after
it. This is how the table was built and how it is kept complete: run it on
every archive after a change to the rules.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exception_map import UnknownException, WrongRejection, rules_for  # noqa: E402
from fixture_files import collect_cases, fixture_json_files  # noqa: E402
from outcomes import Outcomes  # noqa: E402
from passes import PASSES  # noqa: E402

_EXPECT_EXCEPTION = re.compile(rb'"expectException"\s*:\s*"([^"]*)"')


def exception_names(source: Path) -> set[str]:
    """Every exception name any block under ``source`` expects, alternatives (``A|B``) split.

    A plain text search over the files, without running anything: it finds the
    names of every test, also those no pass can run yet (networks balrex lacks).
    """
    _, files = fixture_json_files(source)
    return {
        name
        for path in files
        for expected in _EXPECT_EXCEPTION.findall(path.read_bytes())
        for name in expected.decode().split("|")
    }


@dataclass
class RecordingOutcomes(Outcomes):
    """Outcomes that also keep, per (expected, rule), the count and a first example."""

    test_id: str = ""
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], str] = field(default_factory=dict)

    def reject(self, rule: str, expected: str, message: str) -> None:
        super().reject(rule, expected, message)
        self.pairs[(expected, rule)] += 1
        self.examples.setdefault((expected, rule), f"{self.test_id}: {message[:160]}")


def verdict(expected: str, rule: str) -> str:
    try:
        accepted = rules_for(expected)
    except UnknownException:
        return "UNKNOWN"
    return "ok" if rule in accepted else "WRONG"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--pass", dest="pass_name", default="streaming", choices=sorted(PASSES))
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()

    recorder = RecordingOutcomes()
    failures: list[str] = []
    for source in args.sources:
        for case in collect_cases(source, args.only, args.every):
            test = case.load()
            if not any("expectException" in block for block in test["blocks"]):
                continue
            recorder.test_id = case.short_id
            try:
                PASSES[args.pass_name](test, recorder)
            except (WrongRejection, UnknownException):
                pass  # recorded by reject() before the check raised; listed below
            except Exception as exc:  # any other failure is listed, not fatal
                failures.append(f"{case.short_id}: {type(exc).__name__}: {str(exc)[:200]}")

    wrong = 0
    for (expected, rule), count in sorted(recorder.pairs.items()):
        mark = verdict(expected, rule)
        wrong += mark != "ok"
        print(f"{mark:7} {count:5}  {expected}  ->  {rule}")
        print(f"{'':15}e.g. {recorder.examples[(expected, rule)]}")
    names = {name for expected, _ in recorder.pairs for name in expected.split("|")}
    print(f"\n{len(names)} exception names, {len(recorder.pairs)} (expected, rule) pairs, {wrong} not ok")
    if failures:
        print(f"\n{len(failures)} tests failed for another reason:")
        for line in failures:
            print(f"  {line}")
    return 1 if wrong or failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
