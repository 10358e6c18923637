"""The floors the quality tests hold the models to report what falls short."""

from __future__ import annotations

from quality_support import shortfalls

SUMMARY = {"answerable": 60, "off_topic": 10, "near_domain": 10, "hit@1": 0.9, "hit@3": 0.95,
           "off_topic_abstained": 1.0, "false_abstention": 0.0}


def test_a_summary_at_its_floors_falls_short_of_nothing() -> None:
    assert shortfalls(SUMMARY, counts=(60, 10, 10), hit1=0.9, hit3=0.95) == []


def test_each_floor_missed_is_named() -> None:
    worse = {**SUMMARY, "hit@1": 0.8, "off_topic_abstained": 0.8, "false_abstention": 0.1}
    assert shortfalls(worse, counts=(60, 10, 9), hit1=0.85, hit3=0.95) == [
        "answerable, off-topic, near-domain questions: (60, 10, 10), not (60, 10, 9)",
        "hit@1 0.800 under 0.85",
        "off-topic abstained 0.800 under 0.9",
        "false abstention 0.100 over 0.05",
    ]
