"""The dossier's forked helper: a result computed in a child process, or here when forking is unsafe."""

from __future__ import annotations

import os

import pytest

import client.tools.dossier.beside as beside
from client.tools.dossier.beside import Beside


def _pid_and_square(value: int) -> tuple[int, int]:
    return os.getpid(), value * value


def _fails() -> None:
    raise KeyError("missing on purpose")


def test_the_work_runs_in_a_child_when_forking_is_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beside, "can_fork", lambda: True)
    pid, square = Beside(lambda: _pid_and_square(12)).result()
    assert square == 144 and pid != os.getpid()


def test_the_work_runs_here_when_forking_is_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beside, "can_fork", lambda: False)
    pid, square = Beside(lambda: _pid_and_square(3)).result()
    assert (pid, square) == (os.getpid(), 9)


@pytest.mark.parametrize("forked", [True, False])
def test_a_failure_is_raised_with_its_type(monkeypatch: pytest.MonkeyPatch, forked: bool) -> None:
    monkeypatch.setattr(beside, "can_fork", lambda: forked)
    with pytest.raises(KeyError, match="missing on purpose"):
        Beside(_fails).result()


def test_a_child_that_dies_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beside, "can_fork", lambda: True)
    with pytest.raises(beside.ChildLost, match="exit code 3"):
        Beside(lambda: os._exit(3)).result()
