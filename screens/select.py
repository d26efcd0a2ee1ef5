"""A dropdown whose list is built when it is first opened (issue 15: screens open in 150 ms).

Textual's Select builds, for every dropdown, its closed line and its list of options (an
OptionList with its component classes), styled as the screen mounts, though the list is
hidden until the operator opens it. The triage has nine dropdowns: their hidden lists were a
third of what the screen styled as it opened (bench/intake.py at 10,000 incidents, cProfile).

:class:`LazySelect` is a Select (same value, same ``Select.Changed``, same keys: Enter, Space,
Down and Up open it, typing searches it) whose list is mounted the first time it opens, and
kept. Until then the closed line is all there is; what Textual's Select does with its list
(highlight the chosen option, change the prompt) waits for the list to exist.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Select
from textual.widgets._select import NoSelection, SelectCurrent, SelectOverlay


class OneLineCurrent(SelectCurrent):
    """The closed line of a dropdown as one widget: what is chosen (or the prompt, dimmed) and
    its arrow, v / ^ (Textual's ▼ ▲ are ambiguous-width). Textual's SelectCurrent is three
    widgets (the text and two arrows, one of them hidden), each styled and laid out as a screen
    opens: 18 of the triage's 108 widgets."""

    def compose(self):  # type: ignore[no-untyped-def]
        return iter(())

    def update(self, label) -> None:  # type: ignore[no-untyped-def]
        self.label = label
        self.has_value = label is not Select.NULL
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return len(self._lines(width))  # (a Horizontal with no children would be 0 lines high)

    def render(self) -> Content:
        width = self.content_size.width or self.size.width
        return Content("\n").join(self._lines(width))

    def _lines(self, width: int) -> list[Content]:
        label = self.label
        if isinstance(label, NoSelection):
            text = Content(self.placeholder).stylize("dim")
        elif isinstance(label, Text):
            text = Content.from_rich_text(label)
        else:
            text = Content(str(label))
        room = max(1, width - 2)  # the arrow and a blank before it
        lines = text.wrap(room) if width else [text]
        arrow = "^" if getattr(self.parent, "expanded", False) else "v"
        first = lines[0].pad_right(room - lines[0].cell_length) + Content(" ") + Content(arrow).stylize("dim")
        return [first, *lines[1:]]


class LazySelect(Select):
    """A :class:`textual.widgets.Select` whose option list is mounted when first opened."""

    def compose(self):
        yield OneLineCurrent(self.prompt)

    def _overlay(self) -> SelectOverlay | None:
        for child in self.children:
            if isinstance(child, SelectOverlay):
                return child
        return None

    async def _open_list(self) -> None:
        """Mount the list (once), filled with the options and on the chosen one."""
        if self._overlay() is not None:
            return
        overlay = SelectOverlay(type_to_search=self._type_to_search)
        overlay.compact = self.compact  # (Select binds it in its compose; a dropdown's never changes)
        await self.mount(overlay)
        super()._setup_options_renderables()
        for index, (_prompt, value) in enumerate(self._options):
            if value == self.value and value != self.NULL:
                overlay.highlighted = index
                break

    async def action_show_overlay(self) -> None:
        await self._open_list()
        super().action_show_overlay()

    @on(SelectCurrent.Toggle)
    async def _select_current_toggle(self, event: SelectCurrent.Toggle) -> None:
        """A click on the closed line: Select's own handler, with the list mounted first."""
        event.stop()
        event.prevent_default()  # Select's handler (its class comes after this one) is not run again
        if not self.expanded:
            await self._open_list()
        self.expanded = not self.expanded

    def _setup_options_renderables(self) -> None:
        if self._overlay() is not None:
            super()._setup_options_renderables()

    def _init_selected_option(self, hint=Select.NULL) -> None:  # type: ignore[no-untyped-def]
        """At its mount, Select takes the value it was made with: a value set before the mount (the
        triage's 報告先, made when its box is shown) was that one already and changed nothing then,
        so the closed line still showed the prompt. It shows the value now whatever came first."""
        super()._init_selected_option(hint)
        if self._overlay() is not None:
            return
        try:
            current = self.query_one(SelectCurrent)
        except NoMatches:
            return
        value = self.value
        current.update(next((prompt for prompt, option in self._options if option == value and value != self.NULL),
                            self.NULL))

    def _watch_value(self, value) -> None:
        if self._overlay() is not None:
            super()._watch_value(value)
            return
        self._value = value  # as Select's own watcher, less the list's highlight (set when it opens)
        try:
            current = self.query_one(SelectCurrent)
        except NoMatches:
            return
        if value == self.NULL:
            current.update(self.NULL)
        else:
            for prompt, option in self._options:
                if option == value:
                    current.update(prompt)
                    break
        self.post_message(self.Changed(self, value))

    def _watch_expanded(self, expanded: bool) -> None:
        if self._overlay() is not None:
            super()._watch_expanded(expanded)
        elif expanded:  # opened by code, not by a key or a click: the list first, then open it
            async def open_now() -> None:
                await self._open_list()
                if self.expanded:
                    super(LazySelect, self)._watch_expanded(True)

            self.call_later(open_now)
        else:
            self.set_class(False, "-expanded")
        for current in self.query(OneLineCurrent):
            current.refresh()  # its arrow: v closed, ^ open

    def _watch_prompt(self, prompt: str) -> None:
        if self._overlay() is not None:
            super()._watch_prompt(prompt)
            return
        if not self.is_mounted:
            return
        current = self.query_one(SelectCurrent)
        current.placeholder = prompt
        if self._allow_blank and self.value == self.NULL:
            current.update(self.NULL)
