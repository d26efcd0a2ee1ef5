"""A draft's timed write that comes round after its screen's fields are gone (the desk quit
while the screen was built or taken down) reads nothing and raises nothing. A clean-clone CI run:
the write of the intake form made ahead raised NoMatches '#channel' at the quit, which
failed the test that was quitting (and would show a traceback at a real desk's quit)."""

from __future__ import annotations

from textual.css.query import NoMatches

from screens.form import DraftKeeper


def _gone() -> dict:
    raise NoMatches("No nodes match '#channel' on IntakeScreen()")


def test_a_timed_write_after_the_fields_are_gone_does_nothing():
    keeper = DraftKeeper(object(), _gone, blank=lambda data: False)
    keeper._flush()  # the timer's callback: raised NoMatches before
    assert keeper._seq == 0 and not keeper.ever_written


def test_a_write_at_leaving_after_the_fields_are_gone_says_nothing_went_wrong():
    keeper = DraftKeeper(object(), _gone, blank=lambda data: False)
    assert keeper.flush_now() is None
    assert keeper._seq == 0
