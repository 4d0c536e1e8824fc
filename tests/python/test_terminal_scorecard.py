"""The terminal scorecard says what rpt_signal_scorecard says: every platform and check with its
verdict and sentence, in the checks seed's order, and the count of failing checks."""

from __future__ import annotations

import re

from signal_audit.reporting.checks import status_label
from signal_audit.reporting.terminal import render_scorecard

_ROW = re.compile(r"^  \[ *([A-Z ]+)\] ([a-z_]+): (.*)$")


def _parse(text: str) -> tuple[dict[tuple[str, str], tuple[str, str]], list[tuple[str, str]], str]:
    """(platform, check) -> (status label, sentence), the rows in order, and the closing line."""
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    order: list[tuple[str, str]] = []
    platform = key = None
    for line in text.splitlines()[2:]:
        if re.fullmatch(r"[A-Z]+", line):
            platform = line.lower()
        elif match := _ROW.match(line):
            key = (platform, match[2])
            rows[key] = (match[1].strip(), match[3])
            order.append(key)
        elif line.startswith("    ") and key is not None:  # a wrapped sentence goes on
            label, sentence = rows[key]
            rows[key] = (label, f"{sentence} {line.strip()}")
    return rows, order, text.splitlines()[-1]


def test_every_verdict_and_sentence_is_the_marts(audited):
    shop = audited("broken")
    card = shop.rows("select platform, check_name, status, summary, display_order, window_start, window_end "
                     "from marts.rpt_signal_scorecard")
    text = render_scorecard(shop.warehouse, width=100)
    rows, order, closing = _parse(text)

    assert text.splitlines()[0] == f"Signal scorecard, {card[0]['window_start']} to {card[0]['window_end']}"
    assert rows == {(r["platform"], r["check_name"]): (status_label(r["status"]), r["summary"]) for r in card}
    # per platform, the checks in the seed's display order
    expected = sorted(card, key=lambda r: (r["platform"], r["display_order"]))
    assert order == [(r["platform"], r["check_name"]) for r in expected]
    failing = sum(r["status"] == "fail" for r in card)
    assert closing == f"{failing} failing check(s) of {len(card)}."
    # the broken shop's verdicts differ from row to row, so a mixed-up row cannot go unseen
    assert {r["status"] for r in card} >= {"pass", "warn", "fail"} and failing == 3
