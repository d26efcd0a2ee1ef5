"""A screen styled once as it opens, not twice (issue 15: every screen open in 150 ms).

Textual applies the stylesheet to every widget as it is mounted, then, when a pushed screen
becomes the active one (``ScreenResume``), applies it again to the whole screen. On a screen
of ~100 widgets (the triage: nine dropdowns, radio sets, inputs, each with its component
classes) that second pass cost as much as the first: about a third of opening the screen at
10,000 incidents (bench/intake.py, cProfile).

:class:`StyledAtMount` leaves that second pass out on the screen's first resume only, and only
when nothing that styles depend on changed since the screen was mounted (the app's stylesheet
or theme: Textual counts its CSS updates). Every later resume (coming back from a dialog) is
Textual's own. Textual calls the ``_on_screen_resume`` of every class in the screen's MRO, the
subclass's first: this one only tells Textual's not to restyle.
"""

from __future__ import annotations

from textual import events


class StyledAtMount:
    """Mixin for a :class:`textual.screen.Screen` (put it before ``Screen`` in the bases)."""

    _desk_styled_at: int | None = None  # the app's CSS update count when this screen was mounted

    def _on_mount(self, event: events.Mount) -> None:
        self._desk_styled_at = self.app._css_update_count  # type: ignore[attr-defined]

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        styled_at, self._desk_styled_at = self._desk_styled_at, None
        if styled_at is not None and styled_at == self.app._css_update_count:  # type: ignore[attr-defined]
            event.refresh_styles = False  # every widget was styled as it was mounted, just now
