"""A bracketed paste is read as text, whole, whatever it holds.

What this changes, and why
--------------------------
Textual's ``XTermParser.parse`` (textual/_xterm_parser.py) reads the terminal's
input. When the terminal says a paste begins (ESC [ 200 ~) it collects the
characters until ESC [ 201 ~, but an ESC inside the paste sends it back to its
escape-sequence reader, which still applies a timeout and a 32-character
limit and, at the next ESC, hands what it read over as key presses. So in a
pasted alert mail or log excerpt ``本文`` ESC Ctrl+Q quit the desk, ESC Ctrl+S
saved the intake, ESC ESC ``t`` left the form, and a colour code
(``\\x1b[31mERROR\\x1b[0m``) was typed as keys, out of order (issue 14,
defect 1). It also drops every NUL of a paste (a workaround for Windows
Terminal, Textual issue 1661).

``install()`` (called once from csirt_tui/app.py, before any driver starts)
replaces ``XTermParser.parse`` with :func:`parse_keeping_pastes`, which wraps
Textual's own parser: every character goes to it as before, except the
characters of a paste. Once Textual has read ESC [ 200 ~ (it is then in its
paste mode) the wrapper gives it ESC [ 201 ~ at once (so Textual is out of its
paste mode again; the empty paste it then reports is dropped), reads every
character itself up to ESC [ 201 ~ with no timeout and no length limit, and
reports them as one ``events.Paste``: every character, NUL included (NULs are
dropped on Windows only, as Textual does there, where Windows Terminal adds
them). The app's fields decide what to do with it (screens/safe_input.py,
screens/form.py: kept verbatim, drawn with control characters as symbols).

The limit: the end marker as text
---------------------------------
A terminal does not escape anything inside a bracketed paste (xterm, VTE and
kitty can be set to filter control characters out of pastes; tmux and many
others send them as they are), so a text holding ESC [ 201 ~ itself ends the
paste there, and what follows would be read as keys. A terminal sends a paste
in one burst, so after the end marker the wrapper waits until the terminal has
been quiet for ``textual.constants.ESCAPE_DELAY`` (0.1 s; ``ESCDELAY``): if
another end marker comes in that time, the first was text and the paste goes on
(a new start marker right after the end is a second paste). The paste is
reported once that wait is over, and keys typed in it are read after it, in
order. What is still taken as keys: text after a literal end marker that
reaches the desk more than that 0.1 s after it (a very slow link), or a text
that holds the end marker and then the start marker right after it. A typed
key can never be told apart from such text; the desk's own answer is that no
single key press loses text (drafts are saved on quit, see csirt_tui/app.py).

What the wrapper relies on (checked by tests/test_paste.py against the Textual
version below; a test fails when these functions change):
- ``XTermParser.parse`` recognises ESC [ 200 ~ as soon as its last character
  is read whenever its escape reader got those six characters with no timeout
  between them (ESC always starts a new sequence; none of ESC [, ESC [ 2,
  ESC [ 20, ESC [ 200 is a key), reports pastes only as ``events.Paste``, only
  asks for ``Read1`` and leaves its paste mode on ESC [ 201 ~;
- ``Parser.tick`` throws ``ParseTimeout`` into the generator and does not
  schedule the timeout of the read that the generator asks for next, so the
  wrapper sets ``_timeout_time`` itself then (``Parser.feed`` sets it the same
  way after every character).
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Generator

import textual._parser as _parser
from textual import constants, events
from textual._parser import ParseEOF, ParseTimeout, Read1, TokenCallback
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser

TEXTUAL_CHECKED = "8.2.8"
"""The Textual version whose parser this was written against and tested with."""

TEXTUAL_SOURCES = {  # SHA-256 of inspect.getsource(...) of what the wrapper relies on
    "XTermParser.parse": "a5834ad1def86544712d43abd7e32d5cc4949a8896cabdde4dd8566df36e89b5",
    "Parser.feed": "390106cde019dd29d613fc973baaeeb32dc42ef92e4a7cbdbea8cf5aed2e3591",
    "Parser.tick": "44606084ad3bf7c1a27eb0e2afcb0b5752cdc1f399861006aa04c5654e87b24b",
}

TEXTUAL_PARSE = XTermParser.parse
"""Textual's own parse, wrapped (kept even once installed)."""

ESC = "\x1b"
START = BRACKETED_PASTE_START
END = BRACKETED_PASTE_END
_START = list(START)
_END = list(END)


def parse_keeping_pastes(self: XTermParser, token_callback: TokenCallback
                         ) -> Generator[Read1, str, None]:
    """``XTermParser.parse`` with every bracketed paste read whole (see the module docstring)."""

    def from_textual(token) -> None:
        if not isinstance(token, events.Paste):  # its pastes are the empty ones the wrapper causes
            token_callback(token)

    textual = TEXTUAL_PARSE(self, from_textual)
    request = next(textual)
    replay: deque[str] = deque()  # read while waiting after a paste, and not part of it: read again
    marker = ""  # what Textual was given since its last ESC, while that may still become START

    def read(timeout: float | None) -> Generator[Read1, str, str]:
        if replay:
            return replay.popleft()
        if timeout is not None:
            self._timeout_time = _parser.get_time() + timeout  # see the module docstring (Parser.tick)
        return (yield self.read1(timeout))

    def paste_text(text: list[str]) -> Generator[Read1, str, bool]:
        """Read one paste (after its start marker) into ``text``, and the quiet time after it.
        True when a new paste starts right after this one."""
        while True:
            text.append((yield from read(None)))
            if text[-1] == "~" and text[-6:] == _END:
                del text[-6:]
                break
        pending: list[str] = []
        while True:
            try:
                character = yield from read(constants.ESCAPE_DELAY)
            except ParseTimeout:
                replay.extendleft(reversed(pending))  # keys typed after the paste
                return False
            pending.append(character)
            if character == "~" and pending[-6:] == _END:
                text.extend(_END)  # the end marker read before was text: the paste goes on
                text.extend(pending[:-6])
                pending.clear()
            elif pending == _START:
                return True

    def send(text: list[str]) -> None:
        pasted = "".join(text)
        if sys.platform == "win32":
            pasted = pasted.replace("\x00", "")  # as Textual does (Textual issue 1661)
        token_callback(events.Paste(pasted))

    while True:
        if replay:
            character = replay.popleft()
        else:
            if request.timeout is not None:
                self._timeout_time = _parser.get_time() + request.timeout
            try:
                character = yield request
            except ParseTimeout as timeout:
                marker = ""
                request = textual.throw(timeout)
                continue
            except ParseEOF as eof:
                try:
                    textual.throw(eof)
                except StopIteration:
                    pass
                return
        try:
            request = textual.send(character)
        except StopIteration:
            return
        if character == ESC:
            marker = ESC
        elif marker:
            marker += character
            if not START.startswith(marker):
                marker = ""
        if marker != START:
            continue
        marker = ""
        for character in END:  # Textual is in its paste mode now: out of it again
            request = textual.send(character)
        another = True
        while another:
            text: list[str] = []
            try:
                another = yield from paste_text(text)
            except ParseEOF as eof:  # the terminal went away in the middle of a paste
                send(text)
                try:
                    textual.throw(eof)
                except StopIteration:
                    pass
                return
            send(text)


TEXTUAL_SEQUENCE_TO_KEYS = XTermParser._sequence_to_key_events
"""Textual's own mapping of a sequence to keys, wrapped (kept even once installed)."""


def keys_after_escape(self, sequence: str, alt: bool = False):  # type: ignore[no-untyped-def]
    """ESC and the key after it read together are Esc, then that key (review, 2026-12-05).

    Textual reads ESC followed by a character that starts no escape sequence as Alt+that key:
    ``ESC n`` is alt+n (typed as 「n」), and ``ESC CR``, ``ESC Ctrl+S``, ``ESC Space`` lose the
    Esc altogether (enter, ctrl+s, space). A terminal sends them together when the two keys
    come in one read: a remote session's batch, tmux within its escape-time, a fast typist on a
    slow PC. The second Esc of 「破棄するときは 4 秒以内にもう一度 Esc」 and the 「n」 after it came
    as one alt+n: the note stayed open with 「n」 added, and the Ctrl+S after it recorded the text
    the operator had discarded. The desk binds no Alt key, so an Alt+key pressed on purpose (the
    same bytes) now reads as Esc and the key, which asks before anything typed is discarded.
    Textual asks for ``alt`` only for a character that came right after such an ESC
    (``reissue_sequence_as_keys``); Alt+arrows and the like (ESC [ 1 ; 3 A) are keys of their own
    and come as before."""
    if alt:
        yield events.Key("escape", "\x1b")
    yield from TEXTUAL_SEQUENCE_TO_KEYS(self, sequence, False)


def install() -> None:
    """Make every XTermParser (Linux, macOS, Windows and web drivers) read pastes whole, and an
    ESC with the key after it as two keys (:func:`keys_after_escape`)."""
    XTermParser.parse = parse_keeping_pastes
    XTermParser._sequence_to_key_events = keys_after_escape
