"""Progress on the terminal: each stage's name, a live line while it runs, and its time.

On a terminal the live line is rewritten in place (elapsed seconds, nodes done); in a log
(CI, a pipe) only milestones are printed, so logs stay short. No dependency: a thread that
redraws one line is all a stage needs.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Stage:
    """`with Stage("build models") as stage: ... stage.progress(3, 10, "int_events")`."""

    def __init__(self, name: str, stream: TextIO | None = None, milestones: int = 4) -> None:
        self.name = name
        self.stream = stream or sys.stdout
        self.live = _is_terminal(self.stream)
        self.milestones = milestones
        self._detail = ""
        self._last_milestone = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Stage:
        self.started = time.monotonic()
        print(f"==> {self.name}", file=self.stream, flush=True)
        if self.live:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.live:
                self.stream.write("\r\033[K")
            if exc_type is None:
                print(f"    done in {self.elapsed:.1f} s", file=self.stream, flush=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def note(self, text: str) -> None:
        """What the stage is doing now, shown on the live line only (logs get milestones)."""
        with self._lock:
            self._detail = text

    def progress(self, done: int, total: int, label: str = "") -> None:
        """`done` of `total` units finished, the last one named `label`."""
        with self._lock:
            self._detail = f"{done}/{total} {label}".rstrip()
            if self.live:
                self._draw()
                return
            step = max(1, total // self.milestones)
            if done == total or done - self._last_milestone >= step:
                self._last_milestone = done
                print(f"    {done} of {total} done ({self.elapsed:.1f} s)", file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        line = f"    {self.elapsed:5.0f} s  {self._detail}"
        self.stream.write("\r\033[K" + line[:110])
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
