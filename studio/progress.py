"""Progress of long command-line jobs on stderr, shared by the subcommands that take minutes (ppl, eval)."""

from __future__ import annotations

import sys


class StderrProgress:
    """One rewritten line on a terminal, else a line every 10% (logs stay short); call with (fraction, message)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.next_step = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self.tty:
            print(f"\r{fraction:6.1%}  {message}\033[K", end="\n" if fraction >= 1 else "", file=sys.stderr,
                  flush=True)
        elif fraction >= self.next_step or fraction >= 1:
            print(f"{fraction:6.1%}  {message}", file=sys.stderr, flush=True)
            self.next_step = fraction + 0.1
