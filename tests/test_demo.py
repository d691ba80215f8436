"""The demo's whole loop on a small scale: suggest -> emit -> apply -> verify, >= 10x."""

from __future__ import annotations

from pgtune.demo.runner import run_demo


def test_demo_loop_cuts_workload_cost_tenfold() -> None:
    lines: list[str] = []
    result = run_demo(keep=False, scale=0.2, echo=lines.append, progress=lambda _m: None)
    assert result.verified
    assert result.indexes >= 5
    assert result.constraints >= 1
    assert result.cost_before / result.cost_after >= 10
    text = "\n".join(lines)
    assert "workload cost reduction" in text and "TOTAL" in text
