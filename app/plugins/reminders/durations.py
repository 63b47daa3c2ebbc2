"""Task: T-181
Spec: specs/features/reminders.md §Offsets

ISO 8601 durations for relative reminders (`-PT15M`, `PT0S`, `-P1D`, `P1W`, `-P1DT2H30M`),
parsed strictly by hand: no dependency for one regular expression. Only units of fixed length
are accepted — weeks, days (24 hours: times are UTC), hours, minutes, seconds, whole numbers —
since a year or a month has no fixed length; a sign may lead the whole duration.
"""

import re

MAX_SECONDS = 366 * 86_400
_DURATION = re.compile(
    r"(?P<sign>[+-])?P(?:(?P<weeks>\d{1,3})W)?(?:(?P<days>\d{1,3})D)?"
    r"(?:T(?:(?P<hours>\d{1,4})H)?(?:(?P<minutes>\d{1,6})M)?(?:(?P<seconds>\d{1,8})S)?)?",
    re.ASCII,
)
_UNITS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


def parse_offset(value: str) -> int:
    """The signed number of seconds `value` stands for; ValueError naming what is wrong."""
    match = _DURATION.fullmatch(value)
    if match is None or value.endswith(("P", "T")):
        if re.search(r"P.*\d+[YM](?!.*T)|P[^T]*\d+[YM]", value):
            raise ValueError(
                "years and months have no fixed length: use weeks (W), days (D), hours, "
                "minutes or seconds, as -P1D or -PT15M"
            )
        raise ValueError(
            "must be an ISO 8601 duration of whole weeks, days, hours, minutes or seconds, "
            "optionally negative: -PT15M, PT0S, -P1D"
        )
    seconds = sum(int(match[unit] or 0) * size for unit, size in _UNITS.items())
    if seconds > MAX_SECONDS:
        raise ValueError("must be at most 366 days either way")
    return -seconds if match["sign"] == "-" else seconds


def format_offset(seconds: int) -> str:
    """The canonical spelling of an offset: `-PT15M`, `PT0S`, `-P1DT2H`, `P7D`."""
    if seconds == 0:
        return "PT0S"
    sign, rest = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(rest, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    date = f"{days}D" if days else ""
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return f"{sign}P{date}{'T' + time if time else ''}"


def canonical(value: str) -> str:
    """`value` checked and spelled canonically (for a pydantic AfterValidator)."""
    return format_offset(parse_offset(value))
