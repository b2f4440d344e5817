"""Durations as people write them ("1m30s", "45 sec", "5 breaths") to integer milliseconds."""

from __future__ import annotations

import re

MS_PER_UNIT = {
    "ms": 1,
    "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "m": 60_000, "min": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hr": 3_600_000, "hrs": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
}
BREATH_UNITS = ("breath", "breaths")

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_TERM = re.compile(_NUMBER + r"\s*([a-z]+)\s*")
_PLAIN = re.compile(r"\s*[+-]?" + _NUMBER + r"\s*")


class DurationSyntaxError(ValueError):
    """The text is not a duration at all (as opposed to a duration out of range)."""


def parse_duration(value: object, breath_ms: int | None = None) -> int:
    """Return `value` in whole milliseconds (rounded to the nearest).

    Accepts a number of seconds (`30`, `7.5`, negative numbers too so that the caller can
    say "not positive" rather than "not a duration") or text made of number+unit terms
    (`1m30s`, `1.5 min`, `2 minutes`), or `N breaths` when `breath_ms` is given.
    Raises DurationSyntaxError for anything else.
    """
    if isinstance(value, bool):
        raise DurationSyntaxError("is not a duration")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise DurationSyntaxError("is not a duration")
        return round(value * 1000)
    if not isinstance(value, str):
        raise DurationSyntaxError("is not a duration")
    text = value.strip().lower()
    if _PLAIN.fullmatch(text):
        return parse_duration(float(text))
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-").strip()
    total = 0.0
    pos = 0
    units_seen: list[str] = []
    while pos < len(text):
        match = _TERM.match(text, pos)
        if not match:
            raise DurationSyntaxError("is not a duration")
        number, unit = float(match.group(1)), match.group(2)
        if unit in BREATH_UNITS:
            if breath_ms is None:
                raise DurationSyntaxError("cannot be written in breaths here")
            total += number * breath_ms
        elif unit in MS_PER_UNIT:
            total += number * MS_PER_UNIT[unit]
        else:
            raise DurationSyntaxError("is not a duration")
        units_seen.append(unit)
        pos = match.end()
    if not units_seen:
        raise DurationSyntaxError("is not a duration")
    if total == float("inf"):
        raise DurationSyntaxError("is not a duration")
    return sign * round(total)


def format_ms(ms: int) -> str:
    """`83500` → `1:23.5`; hours when needed (`1:02:03.0`). For tables and messages."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}.{millis // 100}"
    return f"{sign}{minutes}:{seconds:02d}.{millis // 100}"


def describe_ms(ms: int) -> str:
    """`90000` → `1m30s`, `7200000` → `2h`: the compact form a user would write."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    if seconds or millis or not parts:
        parts.append(f"{seconds}.{millis:03d}".rstrip("0").rstrip(".") + "s")
    return "".join(parts)
