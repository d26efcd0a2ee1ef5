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

And a screen was laid out twice in a row at the same size: the layout at its first ScreenResume
sends the screen a Resize with the size it was just laid out at, and Textual's Resize handler
lays the whole screen out again (61 of the triage's ~230 ms of layout at 80x24).
:class:`StyledAtMount` lets that one Resize pass without a layout when the size is the one the
screen was just laid out at; a change made meanwhile is laid out by Textual's own refresh, as
any change is, and any later Resize (the terminal resized) lays it out as before.

And once more: when a pushed screen has mounted, Textual's wait for that mount (scheduled as the
screen was pushed) asks for a layout of the whole screen, which comes after the resume's layout
had already placed everything. :class:`StyledAtMount` lets such a request from a wait for a
mount pass without a layout only if every widget it waited for is the screen itself or was
mounted when the screen was first laid out; any other request lays it out as before. The toast
rack Textual adds to each screen starts hidden when there is no toast to show (it was shown
as it mounted and hidden a moment later, after the first layout: one more layout).
"""

from __future__ import annotations

import sys

from textual import _time, events
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets._toast import ToastRack

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
    _share_component_styles()
    _inner_outer_by_colours()
    _installed = True


# the digests of Textual's StylesCache.get_inner_outer that _inner_outer_by_colours replaces (8.2.8)
INNER_OUTER_KNOWN = {"d2509f3e796680df9e74d7abc9df50afba9be6d4903f6731daa037476a17277b"}


def _inner_outer_by_colours() -> None:
    """Textual's ``StylesCache.get_inner_outer`` (two Styles from two colours) is an lru_cache of
    1024 on a method: keyed by the widget's StylesCache as well, it kept the last 1024 widgets'
    StylesCaches, each with every line it drew (Strips, 7 small caches each), long after their
    screens had closed (issue 15: ~700 of them after three walks through the screens at 10,000
    incidents, ~45,000 objects that each full collection walked, bench/gc_opens.py). The same
    Styles, cached by the two colours alone (the StylesCache is not used). Only in place of the
    method it was written against (its source's digest: Textual 8.2.8): another is left as it is."""
    import hashlib
    import inspect
    from functools import lru_cache

    from textual._styles_cache import StylesCache
    from textual.style import Style

    try:
        source = inspect.getsource(StylesCache.get_inner_outer)
    except (OSError, TypeError):  # no source (a frozen build): not known
        return
    if hashlib.sha256(source.encode("utf-8")).hexdigest() not in INNER_OUTER_KNOWN:
        return

    @lru_cache(1024)
    def inner_outer(base_background, background):  # type: ignore[no-untyped-def]
        return Style(background=base_background + background), Style(background=base_background)

    def get_inner_outer(self, base_background, background):  # type: ignore[no-untyped-def]
        return inner_outer(base_background, background)

    get_inner_outer.__doc__ = StylesCache.get_inner_outer.__doc__
    StylesCache.get_inner_outer = get_inner_outer


def _share_component_styles() -> None:
    """Widgets styled together (a screen's widgets as they mount, Stylesheet.update_nodes) that
    Textual's own cache gives the same rules (the same parent, type, classes, focus, hover and
    disabled state, and id where a rule names it) get the same styles for their component classes
    too, matched once: Textual matched them again for each widget, on a node made for each. A
    TextArea has 8 component classes: the step form's six memos were ~15 ms of its ~50 ms of
    styling (issue 15: the step form built at `s`). Not shared when a rule that could style a
    component class depends on the widget's place among its siblings (:first-child, :odd ...),
    as Textual's own cache does not share a widget's own rules then."""
    from textual.css.stylesheet import Stylesheet

    apply, components = Stylesheet.apply, Stylesheet._process_component_classes
    styling: list = [None, None]  # (the widget, the group's cache) of the apply under way

    def apply_with(self, node, *, animate=False, cache=None):  # type: ignore[no-untyped-def]
        if cache is None:
            return apply(self, node, animate=animate, cache=cache)
        outer = styling[:]
        styling[:] = [node, cache]
        try:
            return apply(self, node, animate=animate, cache=cache)
        finally:
            styling[:] = outer

    def process_component_classes(self, node) -> None:  # type: ignore[no-untyped-def]
        owner, cache = styling
        component_classes = node._get_component_classes()
        if owner is not node or cache is None or not component_classes or not isinstance(node, Widget):
            return components(self, node)
        rules_map = self.rules_map
        same = ("component", node._parent, node._id if node._id is not None and f"#{node._id}" in rules_map else None,
                node.classes, node._pseudo_classes_cache_key, node._css_type_name)
        refresh_node = False
        old_component_styles = node._component_styles.copy()
        node._component_styles.clear()
        for component in sorted(component_classes):  # (what Textual's does, the rules matched once)
            virtual_node = DOMNode(classes=component)
            virtual_node._attach(node)
            key = (*same, component)
            rules = cache.get(key)
            if rules is None:
                self.apply(virtual_node, animate=False)
                names = rules_map.keys() & virtual_node._selector_names
                places = set().union(*(rule.pseudo_classes for name in names for rule in rules_map[name]))
                if places.isdisjoint(self._EXCLUDE_PSEUDO_CLASSES_FROM_CACHE):
                    cache[key] = virtual_node.styles.base.get_rules()
            else:
                self.replace_rules(virtual_node, rules, animate=False)
            if not refresh_node and old_component_styles.get(component) != virtual_node.styles:
                refresh_node = True
            node._component_styles[component] = virtual_node.styles
        if refresh_node:
            node.refresh()

    Stylesheet.apply = apply_with
    Stylesheet._process_component_classes = process_component_classes


class StyledAtMount:
    """For a Screen class, put before Screen / ModalScreen in its bases: its first ScreenResume
    (sent when it is pushed, after it was composed, mounted and styled) does not restyle it."""

    _resumed = False
    _resize_after_resume = False  # the Resize the first resume's layout sends is still to come
    _placed: frozenset = frozenset()  # the screen's children mounted at its first layout
    _first_layout_at: float | None = None  # (Textual's clock) when the latest placing layout began
    _drawn_whole_at: float | None = None  # when the very first layout began (it drew every widget)
    _styled_at: int | None = None  # the app's count of CSS updates when the screen was mounted
    _mounting_after_paint = False  # widgets are being mounted after the first paint (place_after_paint)

    def _on_mount(self, event: events.Mount) -> None:  # (Textual calls each class's own handler)
        self._styled_at = self.app._css_update_count  # type: ignore[attr-defined]

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed:  # Textual's own handler (Screen._on_screen_resume) runs after this one
            self._resumed = True
            self._resize_after_resume = True
            # not if the app's stylesheet or theme changed since the mount: then it is restyled
            if self._styled_at == self.app._css_update_count:  # type: ignore[attr-defined]
                event.refresh_styles = False

    def _screen_resized(self, size) -> None:  # type: ignore[no-untyped-def]
        if self._resize_after_resume:
            self._resize_after_resume = False
            if size == self._compositor.size and self._compositor.root is self:  # type: ignore[attr-defined]
                return  # laid out at this size a moment ago, at the resume
        super()._screen_resized(size)  # type: ignore[misc]

    def _refresh_layout(self, size=None, scroll: bool = False) -> None:  # type: ignore[no-untyped-def]
        first = self._resumed and not scroll and (not self._placed or self._mounting_after_paint)
        if first:
            self._mounting_after_paint = False
            self._met_requests()
            self._first_layout_at = _time.get_time()
            if self._drawn_whole_at is None:
                self._drawn_whole_at = self._first_layout_at
            bars = self._scroll_bars()
        super()._refresh_layout(size, scroll)  # type: ignore[misc]
        if first:
            self._placed = frozenset(w for w in self._nodes if w._is_mounted)  # type: ignore[attr-defined]
            if self._scroll_bars() != bars:
                # a scroll bar the first layout found takes a column (or row) from what it laid
                # out (the incident screen's text ran into the bar's column): laid out again at
                # once, with the bar. Left to the next refresh, that layout moved what had its size
                # from the first, which asked for a third layout of the whole screen (the export
                # dialog and the step form at 80x24, the tracker, the roster)
                self._met_requests()
                bars = self._scroll_bars()
                super()._refresh_layout(size, scroll)  # type: ignore[misc]
                self._placed = frozenset(w for w in self._nodes if w._is_mounted)  # type: ignore[attr-defined]
            if self._scroll_bars() == bars:
                self._met_requests()
            # else the second layout changed the scroll bars again: the requests stand, and the next
            # layout places what they asked for
            self._layout_required = False  # the screen's own request, from its mount: met too
            if not self.app._batch_count:  # and drawn whole by it, as it ended (its own size set by it
                self._repaint_required = False  # asked for a repaint of the whole screen again: ~40 ms)

    async def mount_after_paint(self, container: Widget, widgets: list[Widget]) -> None:
        """Mount ``widgets`` into ``container`` after the screen's first paint (the part of a form
        below the fold): the layout that places them meets the requests they make before and by it,
        as the first layout does (one layout of the screen, not three)."""
        self._mounting_after_paint = True
        await container.mount_all(widgets)

    def _scroll_bars(self) -> list:
        """Which containers show a scroll bar that takes room (not a stable gutter's)."""
        bars = []
        for w in self.walk_children(with_self=False):  # type: ignore[attr-defined]
            if w.styles.scrollbar_gutter == "stable":
                continue
            # a bar of no size takes no room (an Input's horizontal one, shown when its text is wider)
            vertical = w.show_vertical_scrollbar and w.styles.scrollbar_size_vertical > 0
            horizontal = w.show_horizontal_scrollbar and w.styles.scrollbar_size_horizontal > 0
            if vertical or horizontal:
                bars.append((w, vertical, horizontal))
        return bars

    def _on_layout(self, message) -> None:  # type: ignore[no-untyped-def]
        if self._first_layout_at is not None and message.time < self._first_layout_at:
            message.stop()
            message.prevent_default()  # asked before the first layout, which placed it (Screen._on_layout not run)

    def _on_update(self, message) -> None:  # type: ignore[no-untyped-def]
        if self._drawn_whole_at is not None and message.time < self._drawn_whole_at:
            message.stop()  # a repaint asked before the first layout, which drew the whole screen
            message.prevent_default()  # (the screen's own, from its mount: ~40 ms, the triage at 80x24)

    def _met_requests(self) -> None:
        """The first layout places every widget from what it is at that moment: the widgets'
        requests for a layout made before it (as they were built and mounted) and by it (each
        widget's size and virtual size set from 0) are met by it, and are not sent on afterwards,
        as Textual's idle does, each one a layout of the whole screen again (the triage: ~30
        requests, two more layouts of its 108 widgets); a request posted before it and still in the
        screen's queue is dropped (``_on_layout``). A request made after it is handled as usual,
        and so are those made by it when it found a scroll bar that takes room."""
        widgets = list(self.walk_children(with_self=False))  # type: ignore[attr-defined]
        bars = (getattr(w, name, None) for w in widgets  # (a container's scroll bars are not its children)
                for name in ("_vertical_scrollbar", "_horizontal_scrollbar", "_scrollbar_corner"))
        for widget in [*widgets, *(bar for bar in bars if bar is not None)]:
            if widget._layout_required:
                widget._layout_required = False
                for ancestor in widget.ancestors:  # what Widget._check_refresh does with it
                    if not isinstance(ancestor, Widget):
                        break
                    ancestor._clear_arrangement_cache()
                    ancestor._layout_updates += 1
                    if not ancestor.styles.auto_dimensions:
                        break

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):  # type: ignore[no-untyped-def]
        if not (layout or regions or recompose) and self._resize_after_resume and self._placed:
            if sys._getframe(1).f_code.co_name == "_on_screen_resume":
                # the first resume's repaint of the whole screen, right after its layout at that
                # resume laid out and drew all of it (~40 ms, the triage at 80x24)
                return self
        if layout and not regions and self._placed:
            caller = sys._getframe(1)
            waited = caller.f_locals.get("self") if caller.f_code.co_name == "await_mount" else None
            widgets = getattr(waited, "_widgets", None) or (None,)
            if all(w is self or w in self._placed for w in widgets):
                # Textual's wait for the screen's own mount, after it was placed: laid out and drawn
                # by that layout (a repaint of the whole screen here cost ~40 ms, the triage at 80x24)
                return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)  # type: ignore[misc]

    def _extend_compose(self, widgets: list) -> None:
        super()._extend_compose(widgets)  # type: ignore[misc]
        for widget in widgets:
            if isinstance(widget, ToastRack) and not self.app._notifications:  # type: ignore[attr-defined]
                widget.display = False  # ToastRack.show shows it when a toast comes
