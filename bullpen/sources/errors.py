"""The one error a source raises when it cannot read something at all."""

from __future__ import annotations


class SourceError(Exception):
    """`where` (a file, a URL) could not be read, and why: `str()` is "where: problem"."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(where, problem)  # both to Exception, so the error pickles
        self.where = where
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"
