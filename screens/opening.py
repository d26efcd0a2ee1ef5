"""Work Textual does twice when a screen opens, left out (issue 15: every screen open <= 150 ms).

Most of a screen's opening time is Textual matching the stylesheet's rules to each widget
(``Stylesheet.apply``, ~1 ms a widget here with the desk's stylesheets, more for a widget with
component classes: Input, Button, RadioButton…). Profiled on the export dialog (45 widgets), a
widget was matched three to four times before the dialog was drawn:

- while it was being built, before it was in the screen: Input/Button set their ``compact``,
  ``flat`` and ``variant`` reactives and Input validates its first value; each sets a CSS class,
  and each class set restyled the widget on its own, outside the DOM. Textual styles every
  widget again when it is mounted (``App._register``), with its classes as they are then:
  :func:`install` makes a widget that is not in the DOM skip the restyle (66 of 271 matchings
  of the export dialog);
- when it was mounted (needed);
- when the new screen was resumed, right after: Textual restyles the whole screen on every
  ScreenResume, also the first one, which follows the mount with nothing changed in between.
  :class:`StyledAtMount` skips that first one (a screen shown again, after a dialog on top of it
  closed, is restyled as before);
- when the focus moved: see the screens' ``AUTO_FOCUS`` (the widget the screen opens on gets the
  focus at once, no other focusable widget first).
"""

from __future__ import annotations

from textual import events
from textual.dom import DOMNode
from textual.screen import Screen

_installed = False


def install() -> None:
    """A widget not in the DOM (not mounted yet, or removed) is not restyled when a class or
    pseudo-class of it changes: it is styled when mounted. Idempotent."""
    global _installed
    if _installed:
        return
    from textual.app import App

    restyle = DOMNode.update_node_styles

    def update_node_styles(self, animate: bool = True) -> None:
        if self._parent is None and not isinstance(self, (Screen, App)):
            return
        restyle(self, animate)

    update_node_styles.__doc__ = restyle.__doc__
    DOMNode.update_node_styles = update_node_styles
    _installed = True


class StyledAtMount:
    """For a Screen class, put before Screen / ModalScreen in its bases: its first ScreenResume
    (sent when it is pushed, after it was composed, mounted and styled) does not restyle it."""

    _resumed = False
    _styled_at: int | None = None  # the app's count of CSS updates when the screen was mounted

    def _on_mount(self, event: events.Mount) -> None:  # (Textual calls each class's own handler)
        self._styled_at = self.app._css_update_count  # type: ignore[attr-defined]

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed:  # Textual's own handler (Screen._on_screen_resume) runs after this one
            self._resumed = True
            # not if the app's stylesheet or theme changed since the mount: then it is restyled
            if self._styled_at == self.app._css_update_count:  # type: ignore[attr-defined]
                event.refresh_styles = False
