"""Running a devnet CLI in-process as a user would, with its output captured."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Run:
    exit_code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def table(self) -> list[list[str]]:
        """The table's rows under its header, split on runs of two or more spaces."""
        return [re.split(r"\s{2,}", line.strip()) for line in self.out.splitlines()[1:]]


CliMain = Callable[..., int]


def run_cli(main: CliMain, argv: Sequence[str], environ: Mapping[str, str]) -> Run:
    out, err = io.StringIO(), io.StringIO()
    exit_code = main(list(argv), environ=environ, out=out, err=err)
    return Run(exit_code, out.getvalue(), err.getvalue())
