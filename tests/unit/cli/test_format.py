"""Numbers, sizes and times as the command line writes them."""

import pytest

from workers.cli import format as fmt

pytestmark = pytest.mark.unit


def test_number_formats():
    assert fmt.fmt_rate(None) == "-" and fmt.fmt_rate(0.04) == "0.04/s" and fmt.fmt_rate(12.34) == "12.3/s"
    assert fmt.fmt_rate(4321.2, " pages/s") == "4,321 pages/s"
    assert fmt.fmt_duration(None) == "-" and fmt.fmt_duration(7.4) == "0:00:07" and fmt.fmt_duration(3723) == "1:02:03"
    assert fmt.fmt_duration(2 * 86400 + 5) == "2d 0:00:05"
    assert fmt.fmt_elapsed(3.21) == "3.2s" and fmt.fmt_elapsed(125) == "2m 05s" and fmt.fmt_elapsed(3720) == "1h 02m"
    assert fmt.fmt_bytes(512) == "512 B" and fmt.fmt_bytes(1_900_000) == "1.9 MB" and fmt.fmt_bytes(None) == "-"
    assert fmt.fmt_age(100.0, now=112.0) == "12s ago" and fmt.fmt_age(0.0, now=300.0) == "5 min ago"
    assert fmt.fmt_age(0.0, now=3 * 86400) == "3 days ago" and fmt.fmt_age(None) == "-"
    assert fmt.plural(1, "page") == "1 page" and fmt.plural(1200, "page") == "1,200 pages"


def test_sparkline_scales_to_the_largest_and_marks_zero():
    assert fmt.sparkline([0, 0]) == "··"
    line = fmt.sparkline([0, 1, 5, 10])
    assert line[0] == "·" and line[-1] == "█" and len(line) == 4
    assert fmt.sparkline([]) == ""


def test_hexdump():
    assert fmt.hexdump(b"AB\x00") == "00000000  41 42 00" + " " * 40 + " AB."
    assert len(fmt.hexdump(bytes(1000)).splitlines()) == 8


def test_safe_url_hides_passwords():
    assert fmt.safe_url("redis://:secret@redis:6379/0") == "redis://:***@redis:6379/0"
    assert fmt.safe_url("http://elastic:pw@es:9200") == "http://elastic:***@es:9200"
    assert fmt.safe_url("http://127.0.0.1:9200") == "http://127.0.0.1:9200"
