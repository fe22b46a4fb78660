"""Marker options: durations in the client's own grammar, and typos answered with a suggestion."""

from __future__ import annotations

import pytest

from pytest_qsession.options import OptionError, Options


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("2h 30m 40s", 9040), ("25m", 1500), ("8h", 28800), ("1d", 86400), (90, 90)],
)
def test_max_time_takes_what_session_max_time_takes(given, seconds):
    assert Options.build(max_time=given).max_time == seconds


def test_interactive_timeout_takes_a_duration_string_too():
    assert Options.build(interactive_timeout="1m").interactive_timeout == 60


@pytest.mark.parametrize("bad", ["soon", "0s", ""])
def test_a_duration_string_the_client_refuses_is_an_error_naming_the_option(bad):
    with pytest.raises(OptionError, match=rf"^max_time must be seconds > 0 or a duration like '2h 30m 40s'.*got '{bad}'$"):
        Options.build(max_time=bad)


def test_a_misspelt_option_gets_the_closest_name():
    with pytest.raises(OptionError, match=r"^unknown option\(s\) 'job_duraton' \(did you mean 'job_duration'\?\); known"):
        Options.build(job_duraton=3)


def test_a_misspelt_backend_gets_the_closest_name():
    with pytest.raises(OptionError, match=r"unknown backend 'ibm_sherbroke' \(did you mean 'ibm_sherbrooke'\?\)"):
        Options.build(backends=["ibm_sherbroke"])


def test_a_name_like_nothing_known_gets_no_suggestion():
    with pytest.raises(OptionError, match=r"^unknown option\(s\) 'colour'; known options are: backend_aliases, backends,"):
        Options.build(colour="blue")
