"""Figures of the reliability scenarios: each test reports one line, printed
at the end of the run (`make reliability` shows them all)."""

from __future__ import annotations

from typing import Any

LINES: list[str] = []


def report(scenario: str, **figures: Any) -> None:
    shown = "  ".join(f"{k}={v}" for k, v in figures.items())
    LINES.append(f"{scenario:<34} {shown}")
