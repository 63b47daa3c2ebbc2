"""Task: T-425
Spec: specs/features/quickadd.md §Testing

The quick-add phrase table: each phrase, the time zone it is said in, the fixed "now" it is said
at, and the fields it must give. Importable on its own: the MCP create tool runs the same table.
NOW_FRIDAY is Friday 2025-03-07 15:00 UTC (10:00 in New York, 16:00 in Berlin, Saturday 00:00
in Tokyo); NOW_SATURDAY the day after at 12:00 UTC, the eve of New York's spring-forward.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

NOW_FRIDAY = datetime(2025, 3, 7, 15, 0, tzinfo=UTC)
NOW_SATURDAY = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)
NOWS = {"F": NOW_FRIDAY, "S": NOW_SATURDAY}


@dataclass(frozen=True)
class Phrase:
    text: str
    timezone: str
    now: str  # a key of NOWS
    title: str
    due_at: str | None  # UTC, ISO 8601 with Z
    rrule: str | None
    tags: list[str]
    priority: str | None  # None: not said (the task's is "none")
    list: str | None  # the @name said


# fmt: off
PHRASES = [
    Phrase('Pay rent every month on the 1st at 9am #home !high', 'America/New_York', 'F', 'Pay rent', '2025-04-01T13:00:00Z', 'FREQ=MONTHLY;BYMONTHDAY=1', ['home'], 'high', None),
    Phrase('Buy milk', 'UTC', 'F', 'Buy milk', None, None, [], None, None),
    Phrase('Buy milk tomorrow', 'UTC', 'F', 'Buy milk', '2025-03-08T23:59:00Z', None, [], None, None),
    Phrase('Buy milk today', 'UTC', 'F', 'Buy milk', '2025-03-07T23:59:00Z', None, [], None, None),
    Phrase('call mom tomorrow at 5pm', 'America/New_York', 'F', 'call mom', '2025-03-08T22:00:00Z', None, [], None, None),
    Phrase('call mom tomorrow at 5 pm', 'Europe/Berlin', 'F', 'call mom', '2025-03-08T16:00:00Z', None, [], None, None),
    Phrase('dentist next tuesday 14:30 p2', 'America/New_York', 'F', 'dentist', '2025-03-11T18:30:00Z', None, [], 'medium', None),
    Phrase('meeting at 9', 'America/New_York', 'F', 'meeting', '2025-03-08T14:00:00Z', None, [], None, None),
    Phrase('meeting at 21', 'America/New_York', 'F', 'meeting', '2025-03-08T02:00:00Z', None, [], None, None),
    Phrase('friday report', 'America/New_York', 'F', 'report', '2025-03-08T04:59:00Z', None, [], None, None),
    Phrase('report friday at 9', 'Europe/Berlin', 'F', 'report', '2025-03-14T08:00:00Z', None, [], None, None),
    Phrase('report next friday', 'Europe/Berlin', 'F', 'report', '2025-03-14T22:59:00Z', None, [], None, None),
    Phrase('report monday', 'Europe/Berlin', 'F', 'report', '2025-03-10T22:59:00Z', None, [], None, None),
    Phrase('report on wednesday', 'UTC', 'F', 'report', '2025-03-12T23:59:00Z', None, [], None, None),
    Phrase('report this saturday at noon', 'UTC', 'F', 'report', '2025-03-08T12:00:00Z', None, [], None, None),
    Phrase('sleep at midnight', 'UTC', 'F', 'sleep', '2025-03-08T00:00:00Z', None, [], None, None),
    Phrase('standup every Monday at 9', 'America/New_York', 'F', 'standup', '2025-03-10T13:00:00Z', 'FREQ=WEEKLY;BYDAY=MO', [], None, None),
    Phrase('standup every weekday at 8:15', 'Europe/Berlin', 'F', 'standup', '2025-03-10T07:15:00Z', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', [], None, None),
    Phrase('yoga every day at 7am', 'UTC', 'F', 'yoga', '2025-03-08T07:00:00Z', 'FREQ=DAILY', [], None, None),
    Phrase('stretch daily', 'UTC', 'F', 'stretch', '2025-03-07T23:59:00Z', 'FREQ=DAILY', [], None, None),
    Phrase('water plants every 2 weeks', 'UTC', 'F', 'water plants', '2025-03-07T23:59:00Z', 'FREQ=WEEKLY;INTERVAL=2', [], None, None),
    Phrase('water plants every other week', 'UTC', 'F', 'water plants', '2025-03-07T23:59:00Z', 'FREQ=WEEKLY;INTERVAL=2', [], None, None),
    Phrase('review every 3 months', 'UTC', 'F', 'review', '2025-03-07T23:59:00Z', 'FREQ=MONTHLY;INTERVAL=3', [], None, None),
    Phrase('newsletter weekly', 'UTC', 'F', 'newsletter', '2025-03-07T23:59:00Z', 'FREQ=WEEKLY', [], None, None),
    Phrase('accounts monthly #work', 'UTC', 'F', 'accounts', '2025-03-07T23:59:00Z', 'FREQ=MONTHLY', ['work'], None, None),
    Phrase('birthday every year on March 3', 'UTC', 'F', 'birthday', '2026-03-03T23:59:00Z', 'FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3', [], None, None),
    Phrase('anniversary every year on December 24 at 18:00', 'Europe/Berlin', 'F', 'anniversary', '2025-12-24T17:00:00Z', 'FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24', [], None, None),
    Phrase('tennis every tuesday and thursday at 19:00', 'Europe/Berlin', 'F', 'tennis', '2025-03-11T18:00:00Z', 'FREQ=WEEKLY;BYDAY=TU,TH', [], None, None),
    Phrase('clean every saturday, sunday', 'UTC', 'F', 'clean', '2025-03-08T23:59:00Z', 'FREQ=WEEKLY;BYDAY=SA,SU', [], None, None),
    Phrase('groceries every weekend', 'UTC', 'F', 'groceries', '2025-03-08T23:59:00Z', 'FREQ=WEEKLY;BYDAY=SA,SU', [], None, None),
    Phrase('invoice every month on the 15th', 'UTC', 'F', 'invoice', '2025-03-15T23:59:00Z', 'FREQ=MONTHLY;BYMONTHDAY=15', [], None, None),
    Phrase('rent every 1st at 10am', 'UTC', 'F', 'rent', '2025-04-01T10:00:00Z', 'FREQ=MONTHLY;BYMONTHDAY=1', [], None, None),
    Phrase('backup every month on the last day', 'UTC', 'F', 'backup', '2025-03-31T23:59:00Z', 'FREQ=MONTHLY;BYMONTHDAY=-1', [], None, None),
    Phrase('taxes on April 15', 'America/New_York', 'F', 'taxes', '2025-04-16T03:59:00Z', None, [], None, None),
    Phrase('taxes April 15 at 17:00', 'America/New_York', 'F', 'taxes', '2025-04-15T21:00:00Z', None, [], None, None),
    Phrase('party on 2 March', 'UTC', 'F', 'party', '2026-03-02T23:59:00Z', None, [], None, None),
    Phrase('party on the 3rd of March', 'UTC', 'F', 'party', '2026-03-03T23:59:00Z', None, [], None, None),
    Phrase('holiday June 1, 2026', 'UTC', 'F', 'holiday', '2026-06-01T23:59:00Z', None, [], None, None),
    Phrase('flight 2025-03-09 02:30', 'America/New_York', 'F', 'flight', '2025-03-09T07:30:00Z', None, [], None, None),
    Phrase('flight 2025-03-09 at 3:30am', 'America/New_York', 'F', 'flight', '2025-03-09T07:30:00Z', None, [], None, None),
    Phrase('flight 2025-11-02 01:30', 'America/New_York', 'F', 'flight', '2025-11-02T05:30:00Z', None, [], None, None),
    Phrase('train 2025-03-30 02:30', 'Europe/Berlin', 'F', 'train', '2025-03-30T01:30:00Z', None, [], None, None),
    Phrase('train 2025-10-26 02:30', 'Europe/Berlin', 'F', 'train', '2025-10-26T00:30:00Z', None, [], None, None),
    Phrase('train 2025-10-26 03:30', 'Europe/Berlin', 'F', 'train', '2025-10-26T02:30:00Z', None, [], None, None),
    Phrase('run every day at 2:30', 'America/New_York', 'S', 'run', '2025-03-09T07:30:00Z', 'FREQ=DAILY', [], None, None),
    Phrase('call in 3 days', 'UTC', 'F', 'call', '2025-03-10T23:59:00Z', None, [], None, None),
    Phrase('call in a week', 'UTC', 'F', 'call', '2025-03-14T23:59:00Z', None, [], None, None),
    Phrase('call in 2 months', 'UTC', 'F', 'call', '2025-05-07T23:59:00Z', None, [], None, None),
    Phrase('plan next week', 'UTC', 'F', 'plan', '2025-03-10T23:59:00Z', None, [], None, None),
    Phrase('plan next month', 'UTC', 'F', 'plan', '2025-04-01T23:59:00Z', None, [], None, None),
    Phrase('Fix bug #work #urgent !1', 'UTC', 'F', 'Fix bug', None, None, ['work', 'urgent'], 'high', None),
    Phrase('Fix bug #work #work', 'UTC', 'F', 'Fix bug', None, None, ['work'], None, None),
    Phrase('Fix bug !low', 'UTC', 'F', 'Fix bug', None, None, [], 'low', None),
    Phrase('Fix bug p3', 'UTC', 'F', 'Fix bug', None, None, [], 'low', None),
    Phrase('Fix bug !4', 'UTC', 'F', 'Fix bug', None, None, [], 'none', None),
    Phrase('Fix bug !medium', 'UTC', 'F', 'Fix bug', None, None, [], 'medium', None),
    Phrase('email Bob @Work', 'UTC', 'F', 'email Bob', None, None, [], None, 'Work'),
    Phrase('email Bob @work tomorrow 9am #mail p1', 'Europe/Berlin', 'F', 'email Bob', '2025-03-08T08:00:00Z', None, ['mail'], 'high', 'work'),
    Phrase('may the force be with you', 'UTC', 'F', 'may the force be with you', None, None, [], None, None),
    Phrase('read 2 chapters', 'UTC', 'F', 'read 2 chapters', None, None, [], None, None),
    Phrase('leap day Feb 29', 'UTC', 'F', 'leap day', '2028-02-29T23:59:00Z', None, [], None, None),
    Phrase('late night call at 23:30', 'Asia/Tokyo', 'F', 'late night call', '2025-03-08T14:30:00Z', None, [], None, None),
    Phrase("new year's party day after tomorrow at 20:00", 'Australia/Sydney', 'F', "new year's party", '2025-03-10T09:00:00Z', None, [], None, None),
    Phrase('lunch at 12:30pm', 'UTC', 'F', 'lunch', '2025-03-08T12:30:00Z', None, [], None, None),
    Phrase('wake up at 6 a.m. tomorrow', 'UTC', 'F', 'wake up', '2025-03-08T06:00:00Z', None, [], None, None),
]
# fmt: on
