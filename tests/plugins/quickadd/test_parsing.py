"""Task: T-425
Spec: specs/features/quickadd.md §Testing

The phrase table read by the parser itself, at its fixed "now": every field as expected, and
the DST edges said in the explanation.
"""

from zoneinfo import ZoneInfo

import pytest

from app.plugins.quickadd.parsing import Refused, parse
from tests.plugins.quickadd.phrases import NOW_FRIDAY, NOWS, PHRASES, Phrase


@pytest.mark.parametrize("phrase", PHRASES, ids=lambda p: p.text)
def test_phrase(phrase: Phrase) -> None:
    read = parse(phrase.text, NOWS[phrase.now], ZoneInfo(phrase.timezone))
    due = read.due_at.strftime("%Y-%m-%dT%H:%M:%SZ") if read.due_at else None
    got = (read.title, due, read.rrule, read.tags, read.priority, read.list_name)
    want = (phrase.title, phrase.due_at, phrase.rrule, phrase.tags, phrase.priority, phrase.list)
    assert got == want
    if read.due_at is not None:
        assert f"times are on the wall clock of {phrase.timezone}" in read.assumed


def test_the_table_is_large_enough() -> None:
    assert len(PHRASES) >= 60


@pytest.mark.parametrize(
    ("text", "zone", "said"),
    [
        ("flight 2025-03-09 02:30", "America/New_York", "does not exist"),
        ("train 2025-03-30 02:30", "Europe/Berlin", "does not exist"),
        ("flight 2025-11-02 01:30", "America/New_York", "happens twice"),
        ("train 2025-10-26 02:30", "Europe/Berlin", "happens twice"),
        ("meeting at 9", "UTC", "24-hour clock as 09:00"),
        ("friday report", "UTC", "said on a Friday: today"),
        ("meeting at 9", "UTC", "a time without a date"),
        ("report tomorrow", "UTC", "no time given"),
    ],
)
def test_ambiguity_is_never_silent(text: str, zone: str, said: str) -> None:
    read = parse(text, NOW_FRIDAY, ZoneInfo(zone))
    assert any(said in note for note in read.assumed), read.assumed


@pytest.mark.parametrize(
    "text",
    ["a tomorrow and friday", "a at 9 and at 10", "a every day every week", "a 2025-02-30",
     "a every month on the 32nd", "a at 25:00", "a every year on February 30"],
)  # fmt: skip
def test_refused(text: str) -> None:
    with pytest.raises(Refused):
        parse(text, NOW_FRIDAY, ZoneInfo("UTC"))
