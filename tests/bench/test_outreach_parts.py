"""The outreach parts of `make bench` run end to end at a small size, on each backend, and give table
rows with a goal verdict. Timings are not asserted (benchmarks are not tests); what was done is."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import campaigns, outreach, reminders
from tests.conftest import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", BACKENDS)]


def _verdict(row: list[str]) -> str:
    return row[-1].rsplit(": ", 1)[-1]


async def test_the_sender_rates(backend: str, tmp_path: Path) -> None:
    bare = await outreach.sender_vs_bare(backend, tmp_path, 200)
    held = await outreach.rate_holding(backend, tmp_path, 100, 1)

    assert bare["messages"] == 200 and bare["sender_per_s"] > 0 and bare["bare_per_s"] > 0
    assert held["messages"] == 100
    rows = outreach.rows([bare, held])
    assert [row[0] for row in rows] == ["Sender: unthrottled send rate", "Sender: holding 100/s"]
    assert all(_verdict(row) in ("met", "NOT met") for row in rows)


async def test_the_sender_through_a_campaign(backend: str, tmp_path: Path) -> None:
    campaign = await outreach.campaign_memory(backend, tmp_path, 200, 1000)

    # The worker process expanded the campaign and sent it, every message once.
    assert (campaign["sent"], campaign["not_sent"]) == (200, 0)
    assert 0 < campaign["sender_idle_mib"] <= campaign["sender_peak_mib"]
    [row] = outreach.rows([campaign])
    assert row[:3] == ["Sender: worker through a campaign", backend, "200 recipients at 1,000/s"]
    assert _verdict(row) == ("met" if campaign["sender_peak_mib"] * 2**20 < 200e6 else "NOT met")


async def test_the_campaign_part(backend: str, tmp_path: Path) -> None:
    result = await campaigns.expansion_vs_insert(backend, tmp_path, 200)

    assert result["rows"] == 196  # one in fifty has opted out
    assert result["peak_rss_mib"] >= result["rss_before_mib"] > 0
    [row] = campaigns.rows([result])
    assert row[:3] == ["Campaign expansion into the outbox", backend, "200 people, 196 reachable"]


async def test_the_reminders_part(backend: str, tmp_path: Path) -> None:
    result = await reminders.run(backend, tmp_path, 200, 20, idle_seconds=1, lag_seconds=1)

    assert result["reminder_rows"] == 600
    assert result["lag"]["due"] == 20  # every reminder that fell due was queued
    rows = reminders.rows([result])
    assert [_verdict(rows[0]), _verdict(rows[2])] == [
        "met" if result["lag"]["visible_max_s"] <= 2 else "NOT met",
        "met" if result["idle_cpu_ms_per_s"] <= 10 else "NOT met",
    ]
