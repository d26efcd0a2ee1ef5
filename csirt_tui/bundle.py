"""The bundle: one file that carries incidents between desks (the desk's PC and the isolated
terminal, issue 17; the design is docs/exchange.md).

This module is the container and its checks: :func:`pack` makes the bytes of a bundle from
its payload (optionally encrypted with a password: AES-256-GCM, the key made with scrypt),
:func:`read_bundle` / :func:`unpack` give the payload back only when everything in it has
been checked, before the store is touched:

- the magic line and a header of at most ``MAX_HEADER`` bytes, strict JSON;
- the payload length declared in the header equal to what the file holds (a bundle that
  claims 1 GB is refused from its header, before anything is read or allocated), and at
  most ``MAX_PAYLOAD``;
- the payload's SHA-256 (a plain bundle) or the GCM tag (an encrypted one: a wrong
  password and any edited byte give the same one line);
- strict JSON again (no duplicate keys, no NaN/Infinity), then every field's type and form:
  incident numbers in their one written form (no path can hide in them), store ids hex,
  kinds known, sizes bounded;
- every entry's hash recomputed from the entry as its desk wrote it, and no two entries
  with one identity (desk, incident, seq) and different content.

What fails is a :class:`BundleError`: one line in Japanese, nothing written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

from .errors import DomainError
from .jsonfile import read_bytes
from .model import KINDS, REF_KEYS, entry_hash, entry_nodes, ref_value

MAGIC = b"csirt-desk bundle 1\n"
FORMAT = 1
MAX_HEADER = 4096
MAX_PAYLOAD = 1 << 30           # 1 GiB: more than ten years of a prefecture's record
MAX_TEXT = 4 << 20              # one entry's text (a pasted log excerpt): 4 MiB
MAX_ENTRIES = 5_000_000
SCRYPT = {"n": 1 << 15, "r": 8, "p": 1}  # ~32 MiB and ~0.1 s per derivation
MAX_KDF_WORK = 128 * (1 << 16) * 8      # what a header may ask of the reader: 64 MiB (twice the writer's)
_WIRE_FIELDS = ("store", "incident", "seq", "at", "occurred_at", "operator", "kind", "text", "data",
                "corrects", "prev_hash", "hash", "refs", "seen")
# REF_KEYS (model.py): the places where an entry names another by its number. Numbers differ
# between desks: a wire entry says whom each one means as an identity (desk, incident, seq), and
# what its desk had seen of the others when it was written (``seen``: desk → highest number).
MAX_DATA = 4 << 20   # one entry's data, as JSON
MAX_DESKS = 256      # desks one entry may have seen
_HEX = frozenset("0123456789abcdef")


NEWER = "新しい版の csirt-desk が作ったバンドルです。この版では読めません。csirt-desk を更新してください"


class BundleError(DomainError):
    """A bundle that cannot be taken in: the reason in one line; nothing was written."""


# --------------------------------------------------------------------------- writing
def canonical_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def pack(payload: dict[str, Any], *, password: bytes | None = None) -> bytes:
    """The bytes of a bundle holding ``payload`` (checked first: a bundle this desk would
    refuse is never made)."""
    check_payload(payload)
    body = canonical_payload(payload)
    if password is None:
        header = {"format": FORMAT, "encrypted": False, "length": len(body),
                  "sha256": hashlib.sha256(body).hexdigest()}
        return MAGIC + _header_line(header) + body
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {"format": FORMAT, "encrypted": True, "cipher": "AES-256-GCM",
              "kdf": {"name": "scrypt", "salt": salt.hex(), **SCRYPT}, "nonce": nonce.hex(),
              "length": len(body) + 16}
    line = _header_line(header)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = AESGCM(_key(password, salt, SCRYPT)).encrypt(nonce, body, MAGIC + line)
    return MAGIC + line + sealed


def _header_line(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"


def _key(password: bytes, salt: bytes, kdf: dict[str, Any]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]).derive(password)


# --------------------------------------------------------------------------- reading
CHUNK = 1 << 16  # what is read (and hashed, or decrypted) at a time


def read_bundle(path: str | os.PathLike, *, password: bytes | None = None) -> dict[str, Any]:
    """The checked payload of the bundle at ``path`` (see the module docstring).

    Read twice, in chunks, never whole (issue 17: a 1 GB bundle on an old isolated PC): first
    its SHA-256 or GCM tag is checked (nothing kept), then it is read again and parsed as it
    is read, one value of its top level, one incident of its list at a time, the check made
    again at its end (a file changed between the two reads is refused all the same). What is
    held is the payload's objects and a chunk of text, not the file's bytes nor its text."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise BundleError(f"{path}: 通常のファイルではありません")
        if size > len(MAGIC) + MAX_HEADER + MAX_PAYLOAD:
            raise BundleError(f"{path}: バンドルとしては大きすぎます ({size:,} バイト)")
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + MAX_HEADER + 1)
            header, start = _read_header(head, path)
            if size - start != header["length"]:
                raise BundleError(f"{path}: バンドルが途中で切れているか、余分なデータがあります"
                                  f" (ヘッダーでは {header['length']:,} バイト、実際は {max(size - start, 0):,} バイト)")
            return _read_body(fh, start, header, head[len(MAGIC):start], password, str(path))
    except OSError as err:
        raise BundleError(f"{path}: 読めません: {err.strerror or err}") from None


def unpack(raw: bytes, *, password: bytes | None = None, source: str = "バンドル") -> dict[str, Any]:
    import io

    header, start = _read_header(raw[: len(MAGIC) + MAX_HEADER + 1], source)
    if len(raw) - start != header["length"]:
        raise BundleError(f"{source}: バンドルが途中で切れているか、余分なデータがあります"
                          f" (ヘッダーでは {header['length']:,} バイト、実際は {len(raw) - start:,} バイト)")
    return _read_body(io.BytesIO(raw), start, header, raw[len(MAGIC):start], password, source)


def _read_body(fh, start: int, header: dict[str, Any], line: bytes, password: bytes | None,
               source: str) -> dict[str, Any]:
    key = None
    if header["encrypted"]:
        if password is None:
            raise BundleError(f"{source}: 暗号化されたバンドルです。パスワードファイルを指定してください (--password-file)")
        key = _key(password, bytes.fromhex(header["kdf"]["salt"]), header["kdf"])
    fh.seek(start)
    for _ in _chunks(fh, header, line, key, source):
        pass  # checked whole first: nothing of an unchecked body is parsed
    fh.seek(start)
    payload = _StreamParser(_chunks(fh, header, line, key, source), source).payload()
    check_payload(payload, source=source)
    return payload


def _chunks(fh, header: dict[str, Any], line: bytes, key: bytes | None, source: str) -> Iterator[bytes]:
    """The payload's bytes from ``fh`` (at the body), CHUNK at a time: plain, its SHA-256 checked
    at the end; encrypted, AES-256-GCM decrypted as read (the tag being the body's last 16 bytes,
    as AESGCM writes it) and the tag checked at the end. Raises BundleError (one line) there."""
    length = header["length"]
    if key is None:
        digest = hashlib.sha256()
        left = length
        while left:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                raise BundleError(f"{source}: バンドルが途中で切れています")
            digest.update(chunk)
            left -= len(chunk)
            yield chunk
        if digest.hexdigest() != header["sha256"]:
            raise BundleError(f"{source}: ファイルが壊れています (内容がヘッダーのハッシュと一致しません)")
        return
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    wrong = BundleError(f"{source}: パスワードが違うか、ファイルが壊れています")
    if length < 16:
        raise wrong
    dec = Cipher(algorithms.AES(key), modes.GCM(bytes.fromhex(header["nonce"]))).decryptor()
    dec.authenticate_additional_data(MAGIC + line)
    left = length - 16
    while left:
        chunk = fh.read(min(CHUNK, left))
        if not chunk:
            raise wrong
        left -= len(chunk)
        yield dec.update(chunk)
    tag = fh.read(16)
    try:
        if len(tag) != 16:
            raise wrong
        dec.finalize_with_tag(tag)
    except InvalidTag:
        raise wrong from None


_WS = re.compile(r"[ \t\n\r]*")


class _StreamParser:
    """The payload's JSON parsed as its chunks come: each value of the top-level object, and
    each element of its ``incidents`` list, parsed alone (json's own scanner, as strict as
    :func:`_strict_json`: no key twice, no NaN); the text read so far and not yet parsed is all
    that is held besides the objects. The same values as ``json.loads`` of the whole."""

    def __init__(self, chunks: Iterator[bytes], source: str) -> None:
        import codecs

        self.chunks, self.source = chunks, source
        self.utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self.buf, self.pos, self.eof = "", 0, False
        self.decoder = _strict_decoder(source, "内容", share=True)

    def bad(self) -> BundleError:
        return BundleError(f"{self.source}: 内容が壊れています (JSON として読めません)")

    def more(self, at_least: int = 0) -> bool:
        """Read on (at least ``at_least`` characters' worth, when it can); False at the end."""
        if self.eof:
            return False
        parts, got = [self.buf[self.pos:]], 0
        try:
            while True:
                chunk = next(self.chunks, None)
                if chunk is None:
                    self.eof = True
                    parts.append(self.utf8.decode(b"", final=True))
                    break
                text = self.utf8.decode(chunk)
                parts.append(text)
                got += len(text)
                if got >= at_least and got:
                    break
        except UnicodeDecodeError:
            raise self.bad() from None
        self.buf, self.pos = "".join(parts), 0
        return True

    def skip(self) -> str:
        """The next character after white space ("" at the end), not taken."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def take(self, char: str) -> None:
        if self.skip() != char:
            raise self.bad()
        self.pos += 1

    def value(self) -> Any:
        self.skip()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if not self.more(len(self.buf) - self.pos):  # doubled: a long value is parsed O(1) times
                    raise self.bad() from None
                continue
            except RecursionError:
                raise self.bad() from None
            if end == len(self.buf) and not self.eof and self.more():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.take("{")
        if self.skip() == "}":
            self.pos += 1
        else:
            while True:
                key = self.value()
                if not isinstance(key, str):
                    raise self.bad()
                if key in out:
                    raise BundleError(f"{self.source}: 内容に同じ項目が二度あります ({key[:40]!r})")
                self.take(":")
                out[key] = self.items() if key == "incidents" and self.skip() == "[" else self.value()
                nxt = self.skip()
                self.pos += 1
                if nxt == "}":
                    break
                if nxt != ",":
                    raise self.bad()
        if self.skip() != "":
            raise self.bad()  # (this read the rest: the digest or tag at the end is checked)
        return out

    def items(self) -> list[Any]:
        out: list[Any] = []
        self.take("[")
        if self.skip() == "]":
            self.pos += 1
            return out
        while True:
            out.append(self.value())
            nxt = self.skip()
            self.pos += 1
            if nxt == "]":
                return out
            if nxt != ",":
                raise self.bad()


def _read_header(head: bytes, source) -> tuple[dict[str, Any], int]:
    if not head.startswith(MAGIC):
        if head.startswith(b"csirt-desk bundle "):
            raise BundleError(f"{source}: {NEWER}")
        raise BundleError(f"{source}: csirt-desk のバンドルではありません")
    end = head.find(b"\n", len(MAGIC))
    if end < 0:
        raise BundleError(f"{source}: バンドルのヘッダーが壊れています")
    header = _strict_json(head[len(MAGIC):end], source, what="ヘッダー")
    if isinstance(header, dict) and _is_int(header.get("format")) and header["format"] > FORMAT:
        raise BundleError(f"{source}: {NEWER}")
    problem = _header_problem(header)
    if problem:
        raise BundleError(f"{source}: バンドルのヘッダーが壊れています ({problem})")
    return header, end + 1


def _header_problem(h: Any) -> str | None:
    if not isinstance(h, dict):
        return "not an object"
    if h.get("format") != FORMAT:
        return f"format {h.get('format')!r}"
    length = h.get("length")
    if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= MAX_PAYLOAD + 16:
        return "length"
    if h.get("encrypted") is False:
        return None if _is_hex(h.get("sha256"), 64) else "sha256"
    if h.get("encrypted") is not True or h.get("cipher") != "AES-256-GCM" or not _is_hex(h.get("nonce"), 24):
        return "cipher"
    kdf = h.get("kdf")
    if not (isinstance(kdf, dict) and kdf.get("name") == "scrypt" and _is_hex(kdf.get("salt"), 32)
            and all(isinstance(kdf.get(k), int) and not isinstance(kdf.get(k), bool) for k in ("n", "r", "p"))
            and 2 <= kdf["n"] and kdf["n"] & (kdf["n"] - 1) == 0 and 1 <= kdf["r"] and 1 <= kdf["p"]
            and 128 * kdf["n"] * kdf["r"] * kdf["p"] <= MAX_KDF_WORK):
        return "kdf"  # bounded: a header cannot make the reader spend gigabytes and minutes on the key
    return None


def _strict_decoder(source, what: str = "内容", share: bool = False) -> json.JSONDecoder:
    """A JSON decoder that refuses a key twice and NaN/Infinity. ``share``: equal short strings
    are one object (an entry's hash is the next one's prev_hash; desk ids, incident numbers,
    times, kinds and operators repeat in every entry): a payload's objects take about half the
    memory."""
    memo: dict[str, str] = {}

    def no_duplicates(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                raise BundleError(f"{source}: {what}に同じ項目が二度あります ({key[:40]!r})")
            if share and value.__class__ is str and len(value) <= 80:
                value = memo.setdefault(value, value)
            out[key] = value
        return out

    def no_constant(name):
        raise BundleError(f"{source}: {what}に数でない値があります ({name})")

    return json.JSONDecoder(object_pairs_hook=no_duplicates, parse_constant=no_constant)


def _strict_json(raw: bytes, source, what: str = "内容") -> Any:
    try:
        return _strict_decoder(source, what).decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BundleError(f"{source}: {what}が壊れています (JSON として読めません)") from None


def _is_hex(value: Any, length: int | None = None) -> bool:
    return (isinstance(value, str) and bool(value) and set(value) <= _HEX
            and (length is None or len(value) == length))


def is_store_id(value: Any) -> bool:
    return _is_hex(value, 16)


def _is_incident_id(value: Any) -> bool:
    from .store import parse_incident_id

    try:
        parse_incident_id(value)
    except DomainError:
        return False
    return True


def _is_int(value: Any, low: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_text(value: Any, limit: int = 200) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _iso_ok(value: Any) -> bool:
    """An ISO 8601 time with its offset (what every desk writes)."""
    from datetime import datetime

    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _identity_ok(v: Any) -> bool:
    return (isinstance(v, list) and len(v) == 3 and is_store_id(v[0]) and _is_incident_id(v[1])
            and _is_int(v[2]))


def entry_problem(e: Any) -> str | None:
    """Why a wire-form entry is not one (None: it is, and its hash is its content's)."""
    if not isinstance(e, dict) or set(e) != set(_WIRE_FIELDS):
        return "fields"
    refs = e["refs"]
    if not isinstance(refs, dict) or not set(refs) <= set(REF_KEYS) or not all(map(_identity_ok, refs.values())):
        return "refs"
    if any(_is_int(ref_value(e, key)) != (key in refs) for key in REF_KEYS):
        return "refs"  # every number that names an entry has its identity, and only those
    if not is_store_id(e["store"]) or not _is_incident_id(e["incident"]) or not _is_int(e["seq"]):
        return "identity"
    if e["kind"] not in KINDS or not _is_text(e["operator"]) or not _is_text(e["text"], MAX_TEXT):
        return "kind/operator/text"
    if not _iso_ok(e["at"]) or not (e["occurred_at"] is None or _iso_ok(e["occurred_at"])):
        return "time"
    seen = e["seen"]
    if not (isinstance(seen, dict) and len(seen) <= MAX_DESKS
            and all(is_store_id(d) and _is_int(n) for d, n in seen.items())):
        return "seen"
    try:
        if len(json.dumps(e["data"], ensure_ascii=False)) > MAX_DATA:
            return "data too large"
    except (TypeError, ValueError, RecursionError):
        return "data"
    if not isinstance(e["data"], dict) or not (e["corrects"] is None or _is_int(e["corrects"])):
        return "data/corrects"
    if not _is_hex(e["prev_hash"], 64) or not _is_hex(e["hash"], 64):
        return "hash"
    if (e["kind"] == "intake") != (e["seq"] == 1):
        return "intake"
    if e["kind"] == "intake" and (refs or not _iso_ok(e["data"].get("received_at") or e["at"])):
        return "intake"
    if entry_hash(e) != e["hash"]:
        return "hash does not match its content"
    return None


def check_payload(p: Any, *, source: str = "バンドル") -> None:
    """Raise BundleError unless ``p`` is a payload in the form docs/exchange.md gives."""
    def bad(why: str) -> BundleError:
        return BundleError(f"{source}: バンドルの内容が不正です ({why})")

    if isinstance(p, dict) and _is_int(p.get("format")) and p["format"] > FORMAT:
        raise BundleError(f"{source}: {NEWER}")
    if not isinstance(p, dict) or p.get("format") != FORMAT:
        raise bad("format")
    if not is_store_id(p.get("family")):
        raise bad("family")
    sender = p.get("sender")
    if not (isinstance(sender, dict) and is_store_id(sender.get("store")) and _is_text(sender.get("desk"))
            and _is_text(sender.get("profile"), 64) and _is_int(sender.get("schema"))):
        raise bad("sender")
    from .store import SCHEMA_VERSION

    if sender["schema"] > SCHEMA_VERSION:  # its entries may mean what this version cannot know
        raise BundleError(f"{source}: 新しい版の csirt-desk (ストアの版数 {sender['schema']}) が作ったバンドルです。"
                          f"この版 (対応: {SCHEMA_VERSION}) では取り込めません。csirt-desk を更新してください")
    if not _is_text(p.get("created_at"), 40):
        raise bad("created_at")
    incidents = p.get("incidents")
    if not isinstance(incidents, list):
        raise bad("incidents")
    seen: dict[tuple[str, str, int], str] = {}
    uids: set[tuple[str, str]] = set()
    count = 0
    for n, inc in enumerate(incidents, 1):
        if not isinstance(inc, dict) or set(inc) != {"uid", "id", "aliases", "entries"}:
            raise bad(f"incident {n}")
        uid = inc["uid"]
        if not (isinstance(uid, dict) and set(uid) == {"store", "incident"} and is_store_id(uid["store"])
                and _is_incident_id(uid["incident"])):
            raise bad(f"incident {n} uid")
        key = (uid["store"], uid["incident"])
        if key in uids:
            raise bad(f"incident {uid['incident']} twice")
        uids.add(key)
        if not _is_incident_id(inc["id"]) or not (isinstance(inc["aliases"], list)
                                                   and all(_is_text(a, 80) for a in inc["aliases"])):
            raise bad(f"incident {n} id/aliases")
        entries = inc["entries"]
        if not isinstance(entries, list):
            raise bad(f"incident {n} entries")
        count += len(entries)
        if count > MAX_ENTRIES:
            raise bad("too many entries")
        for e in entries:
            why = entry_problem(e)
            if why:
                raise bad(f"{inc['id']} entry: {why}")
            ident = (e["store"], e["incident"], e["seq"])
            if seen.setdefault(ident, e["hash"]) != e["hash"]:
                raise BundleError(f"{source}: 同じ記録 ({e['incident']}#{e['seq']}) が内容を変えて二度あります")
    drafts = p.get("drafts", [])
    if not isinstance(drafts, list) or len(drafts) > MAX_ENTRIES:
        raise bad("drafts")
    for d in drafts:
        why = draft_problem(d)
        if why:
            raise bad(f"draft: {why}")
    # what this bundle says of the desks' ledgers (csirt_tui/peers.py): the sender's position
    # when it was made, whether it holds everything up to there, and what the sender holds of others
    for key in ("as_of", "base"):
        if key in p and not _position_ok(p[key]):
            raise bad(key)
    if not isinstance(p.get("complete", False), bool):
        raise bad("complete")
    acks = p.get("acks", {})
    if not (isinstance(acks, dict) and len(acks) <= MAX_DESKS
            and all(is_store_id(k) and _position_ok(v) for k, v in acks.items())):
        raise bad("acks")
    if set(p) - {"format", "family", "sender", "created_at", "incidents", "drafts", "as_of", "base", "complete",
                  "acks"}:
        raise bad("unknown fields")


DRAFT_KINDS = ("intake", "note", "form", "report", "triage")
_DRAFT_FIELDS = {"id", "operator", "updated_at", "kind", "incident", "data"}


def draft_problem(d: Any) -> str | None:
    """Why a wire-form draft is not one (None: it is). ``incident``: the uid of the incident
    it was typed for ({store, incident}), None for an intake not yet saved."""
    if not isinstance(d, dict) or set(d) != _DRAFT_FIELDS:
        return "fields"
    if not (isinstance(d["id"], str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", d["id"])):
        return "id"
    if d["kind"] not in DRAFT_KINDS or not _is_text(d["operator"]) or not _iso_ok(d["updated_at"]):
        return "kind/operator/time"
    inc = d["incident"]
    if d["kind"] == "intake" and inc is not None:
        return "incident"
    if inc is not None and not (isinstance(inc, dict) and set(inc) == {"store", "incident"}
                                and is_store_id(inc["store"]) and _is_incident_id(inc["incident"])):
        return "incident"
    try:
        if not isinstance(d["data"], dict) or len(json.dumps(d["data"], ensure_ascii=False)) > MAX_DATA:
            return "data"
    except (TypeError, ValueError, RecursionError):
        return "data"
    return None


def _position_ok(pos: Any) -> bool:
    return (isinstance(pos, dict) and set(pos) == {"n", "rhash"} and _is_int(pos["n"], 0)
            and _is_hex(pos["rhash"], 64))



# --------------------------------------------------------------------------- building a payload
def identity(entry, store_id: str) -> list[Any]:
    """[desk, incident, seq] of an entry as the desk that wrote it numbers it."""
    o = entry.origin
    return [o["store"], o["incident"], o["seq"]] if o else [store_id, entry.incident, entry.seq]


def wire_entry(entry, store_id: str, by_seq: dict[int, Any], seen: dict[str, int] | None = None) -> dict[str, Any]:
    """An entry read on this desk (``store_id``) in the form it travels in: as the desk that
    wrote it wrote it, with the identity of every entry it names (``by_seq``: this desk's
    entries of the incident by number)."""
    doc = entry.to_dict()
    o = entry.origin
    if o:  # written elsewhere: its own numbers and data (references here are this desk's numbers)
        wire = {**doc, "incident": o["incident"], "seq": o["seq"], "prev_hash": o["prev_hash"],
                "corrects": o.get("corrects"), "hash": o["hash"], "data": o.get("data", doc["data"])}
    else:
        wire = dict(doc)
    wire.pop("origin", None)
    refs = {}
    for key in REF_KEYS:
        local = ref_value(doc, key)
        if _is_int(local) and local in by_seq:
            refs[key] = identity(by_seq[local], store_id)
    return {"store": o["store"] if o else store_id,
            **{k: wire[k] for k in _WIRE_FIELDS if k not in ("store", "refs", "seen")},
            "refs": refs, "seen": dict(seen or {})}


def incident_uid(incident, store_id: str) -> dict[str, str]:
    """Whose incident it is: the desk that took the report and its number there."""
    first = incident.entries[0]
    return {"store": first.origin["store"], "incident": first.origin["incident"]} if first.origin \
        else {"store": store_id, "incident": incident.id}


def incident_record(incident, store_id: str, *, since: int = 0, aliases: list[str] | None = None
                    ) -> dict[str, Any]:
    """One incident read on this desk for a payload: its entries after local seq ``since``
    (all by default), each in its wire form."""
    by_seq = {e.seq: e for e in incident.entries}
    nodes = entry_nodes(incident.entries, store_id)
    return {"uid": incident_uid(incident, store_id), "id": incident.id, "aliases": list(aliases or []),
            "entries": [wire_entry(e, store_id, by_seq, node.seen)
                        for e, node in zip(incident.entries, nodes) if e.seq > since]}


def make_payload(incidents: list[dict[str, Any]], *, family: str, store_id: str, desk: str, profile: str,
                 schema: int, created_at: str, drafts: list[dict[str, Any]] | None = None,
                 as_of: dict[str, Any] | None = None, base: dict[str, Any] | None = None,
                 complete: bool = False, acks: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    payload = {"format": FORMAT, "family": family,
               "sender": {"store": store_id, "desk": desk, "profile": profile, "schema": schema},
               "created_at": created_at, "incidents": incidents}
    if drafts:
        payload["drafts"] = drafts
    if as_of is not None:
        payload["as_of"] = as_of
        payload["complete"] = complete
    if base is not None:
        payload["base"] = base
    if acks:
        payload["acks"] = acks
    return payload
