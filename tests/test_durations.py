import pytest

from routinecast.durations import DurationSyntaxError, describe_ms, format_ms, parse_duration


@pytest.mark.parametrize("value, ms", [
    (30, 30_000), (7.5, 7_500), ("30", 30_000), ("30s", 30_000), ("45 sec", 45_000),
    ("1m", 60_000), ("1m30s", 90_000), ("1 min 30 sec", 90_000), ("1.5 min", 90_000),
    ("2 minutes", 120_000), ("1h", 3_600_000), ("250ms", 250), (" 10 Seconds ", 10_000),
    ("0.001s", 1), ("-5s", -5_000), (-3, -3_000), ("0s", 0),
])
def test_parses_what_people_write(value, ms):
    assert parse_duration(value) == ms


def test_breaths_use_the_breath_length():
    assert parse_duration("5 breaths", breath_ms=4_000) == 20_000
    assert parse_duration("1 breath", breath_ms=6_000) == 6_000
    assert parse_duration("1m 2 breaths", breath_ms=5_000) == 70_000


@pytest.mark.parametrize("value", [
    "", "soon", "10 parsecs", "1m30", "s", "5 breaths", True, None, [10], "1..5s", "nan",
    float("nan"), float("inf"),
])
def test_rejects_what_is_not_a_duration(value):
    with pytest.raises(DurationSyntaxError):
        parse_duration(value)


def test_formats():
    assert format_ms(83_500) == "1:23.5"
    assert format_ms(3_723_000) == "1:02:03.0"
    assert describe_ms(90_000) == "1m30s"
    assert describe_ms(7_500) == "7.5s"
    assert describe_ms(0) == "0s"
    assert describe_ms(5_430_500) == "1h30m30.5s"
