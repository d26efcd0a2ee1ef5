"""Taking in a bundle (docs/exchange.md): what it would change, decided before anything is
written. :func:`plan_import` compares a checked payload (csirt_tui.bundle) with the store:
which incidents are new here, which entries each incident gains, and what must be refused
(an entry this desk holds with other content, an incident that arrives without its intake,
a reference to an entry neither side has). The plan is what ``bundle import --dry-run``
shows; applying it is the store's (one atomic import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import uids as uid_index
from .bundle import REF_KEYS, BundleError, identity, incident_uid  # noqa: F401 (incident_uid: tests)
from .model import Node, causal_order, entry_nodes

LISTED = 30  # incidents the dry run lists one by one
BATCH = 200  # incidents new here written together (Store.imported_many): a progress step each


@dataclass
class IncidentPlan:
    uid: tuple[str, str]            # (desk that took the report, its number there)
    local_id: str | None            # this desk's number; None: new here
    sender_id: str                  # the sender's number (an alias here when it differs)
    entries: list[dict[str, Any]] = field(default_factory=list)  # wire entries to append, in order
    known: int = 0                  # entries of the bundle this desk holds already


@dataclass
class ImportPlan:
    sender: dict[str, Any]
    incidents: list[IncidentPlan]
    payload: dict[str, Any] | None = None  # what it was made from (planned again when applied)
    family: str = ""
    gap: bool = False  # a delta from a bundle of the sender's that was never taken in here
    drafts: list[dict[str, Any]] = field(default_factory=list)  # wire drafts new here (asked for by the sender)

    @property
    def new_incidents(self) -> list[IncidentPlan]:
        return [p for p in self.incidents if p.local_id is None]

    @property
    def new_entries(self) -> int:
        return sum(len(p.entries) for p in self.incidents)

    @property
    def changes_nothing(self) -> bool:
        return self.new_entries == 0 and not self.drafts

    def lines(self) -> list[str]:
        """The dry run, in words."""
        out = [f"{self.sender.get('desk') or self.sender['store']} からのバンドル: "
               f"新しいインシデント {len(self.new_incidents)} 件、新しい記録 {self.new_entries} 件"]
        shown = [p for p in self.incidents if p.entries]
        for p in shown[:LISTED]:
            where = "新規" if p.local_id is None else p.local_id
            alias = f" (相手の番号 {p.sender_id})" if p.sender_id != p.local_id else ""
            out.append(f"  {where}{alias}: 記録 {len(p.entries)} 件を追加 (既にある {p.known} 件)")
        if len(shown) > LISTED:
            out.append(f"  ほか {len(shown) - LISTED} 件のインシデントに記録を追加")
        if self.drafts:
            out.append(f"  下書き {len(self.drafts)} 件 (記録ではありません。下書きの一覧に出ます)")
        if self.changes_nothing:
            out.append("  変更はありません (すべて取り込み済みです)")
        if self.gap:
            out.append("  注意: 相手のデスクがこの前に書き出したバンドルを、まだ取り込んでいません。抜けがあるかもしれません"
                       " (前のバンドルを取り込むか、相手にすべてを書き出してもらってください)")
        return out


def _node(e: dict[str, Any]) -> Node:
    """A wire entry as the merge orders it (model.causal_order)."""
    return Node((e["store"], e["seq"]), e["at"], dict(e["seen"]), tuple((t[0], t[2]) for t in e["refs"].values()))


def plan_import(store, payload: dict[str, Any], *, store_id: str, family: str,
                uids: dict[tuple[str, str], str] | None = None) -> ImportPlan:
    """What taking ``payload`` (checked by csirt_tui.bundle) into ``store`` would change.
    Raises BundleError (one line) for what must be refused; nothing is written."""
    if payload["family"] != family:
        raise BundleError("別のストアのバンドルです (この端末とつながりのあるデスクのものではありません)")
    if uids is None:  # the index of uids (csirt_tui/uids.py): no incident is read but those named
        uids = uid_index.lookup(store, [(r["uid"]["store"], r["uid"]["incident"]) for r in payload["incidents"]]
                                + [(d["incident"]["store"], d["incident"]["incident"])
                                   for d in payload.get("drafts", []) if d["incident"] is not None], own=store_id)
    plans = []
    for rec in payload["incidents"]:
        uid = (rec["uid"]["store"], rec["uid"]["incident"])
        local_id = uids.get(uid)
        held: dict[tuple, str] = {}
        held_entries = store.timeline(local_id) if local_id is not None else []
        if held_entries and held_entries[0].origin is not None and uid[0] == store_id:
            held_entries, local_id = [], None  # this number here is another desk's incident, not that one
        for e in held_entries:
            held[tuple(identity(e, store_id))] = e.origin["hash"] if e.origin else e.hash
        plan = IncidentPlan(uid=uid, local_id=local_id, sender_id=rec["id"])
        seen = set(held)
        fresh = []
        for e in rec["entries"]:
            ident = (e["store"], e["incident"], e["seq"])
            if ident in held:
                if held[ident] != e["hash"]:
                    raise BundleError(f"記録 {e['incident']}#{e['seq']} ({e['store']}) はこの端末に別の内容で"
                                      "あります。取り込みません")
                plan.known += 1
                continue
            if ident in seen:
                continue  # the same entry twice in the bundle (checked: the same content)
            if e["store"] == store_id:  # "written here", but not here: forged, or this store is an old copy
                raise BundleError(f"記録 {e['incident']}#{e['seq']} はこの端末が書いたことになっていますが、"
                                  "この端末にありません。取り込みません (古いバックアップから戻したストアなら、"
                                  "最新のバックアップから戻してください)")
            seen.add(ident)
            fresh.append(e)
        # appended in the merge's own order: each after its desk's earlier entries, after what its
        # desk had seen, after the entries it names (clocks need not agree)
        place = {ident: n for n, ident in enumerate(causal_order(entry_nodes(held_entries, store_id)
                                                                  + [_node(e) for e in fresh]))}
        plan.entries = sorted(fresh, key=lambda e: place[(e["store"], e["seq"])])
        if local_id is None and plan.entries and (plan.entries[0]["kind"] != "intake"
                                                  or (plan.entries[0]["store"], plan.entries[0]["incident"]) != uid):
            raise BundleError(f"{rec['id']}: この端末にないインシデントの一部だけのバンドルです。"
                              "相手の端末でこのインシデントを丸ごと書き出してください")
        for e in plan.entries:
            for key in REF_KEYS:
                target = e["refs"].get(key)
                if target is not None and tuple(target) not in seen:
                    raise BundleError(f"{rec['id']}: 記録 #{e['seq']} が、どちらの端末にもない記録を指しています")
        plans.append(plan)
    drafts = []
    for d in payload.get("drafts", []):
        if store.exists_draft(draft_id(payload["sender"]["store"], d)):
            continue  # taken in before (the same draft, the same text)
        uid = d["incident"]
        if uid is not None and (uid["store"], uid["incident"]) not in uids \
                and (uid["store"], uid["incident"]) not in {p.uid for p in plans if p.entries}:
            raise BundleError(f"下書き {d['id']} のインシデントが、この端末にもバンドルにもありません")
        drafts.append(d)
    return ImportPlan(sender=payload["sender"], incidents=plans, payload=payload, family=family, drafts=drafts)


def draft_id(sender: str, d: dict[str, Any]) -> str:
    """The id here of a draft carried in a bundle: the same draft with the same text is taken
    in once, a later text of it is a draft of its own (nothing typed anywhere is overwritten)."""
    import hashlib

    from .bundle import canonical_payload

    digest = hashlib.sha256(canonical_payload({"sender": sender, **d})).hexdigest()
    return f"x{sender[:6]}-{digest[:24]}"


# --------------------------------------------------------------------------- applying
def _spec(e: dict[str, Any], seqs: dict[tuple, int]) -> dict[str, Any]:
    """What the store appends for wire entry ``e``: its numbers translated into this desk's
    (``seqs``: identity → number here), the entry as its desk wrote it kept in ``origin``."""
    data = dict(e["data"])
    corrects = e["corrects"]
    for key, target in e["refs"].items():
        local = seqs[tuple(target)]
        if key == "corrects":
            corrects = local
        else:
            data[key.removeprefix("data.")] = local
    origin = {"store": e["store"], "incident": e["incident"], "seq": e["seq"], "prev_hash": e["prev_hash"],
              "hash": e["hash"], "corrects": e["corrects"], "seen": dict(e["seen"])}
    if data != e["data"]:
        origin["data"] = e["data"]
    return {"kind": e["kind"], "text": e["text"], "data": data, "operator": e["operator"], "at": e["at"],
            "occurred_at": e["occurred_at"], "corrects": corrects, "origin": origin}


def apply_import(store, plan: ImportPlan, *, store_id: str, progress=None, desk: str | None = None,
                 by: str = "") -> list[str]:
    """Take ``plan`` in, all of it or nothing (Store.import_all); returns this desk's numbers of
    the incidents that changed. ``progress(done, total)`` after each incident (a screen's bar).
    The plan is made again under the store's lock: what another desk or process took in since it
    was shown is not taken in twice. Joining the family (a new store) is part of the import."""
    def work() -> list[str]:
        nonlocal plan
        if plan.payload is not None:
            plan = plan_import(store, plan.payload, store_id=store_id, family=plan.family)
        if plan.family and (plan.family != store.family or desk is not None):
            store.join_family(plan.family, desk=desk)
        changed = []
        made = []  # (uid, number here) of the incidents new here: index/uids.json
        total = sum(1 for p in plan.incidents if p.entries)
        if progress is not None and total:
            progress(0, total)  # the bar knows the whole before the first batch is in
        for p in plan.incidents:
            if not p.entries:
                continue
            entries = p.entries
            if p.local_id is None:  # new here: written whole, all together below
                continue
            local_id = p.local_id
            held = store.timeline(local_id)
            seqs = {tuple(identity(e, store_id)): e.seq for e in held}
            for n, e in enumerate(entries, held[-1].seq + 1):
                seqs[(e["store"], e["incident"], e["seq"])] = n
            store.imported_entries(local_id, [_spec(e, seqs) for e in entries])
            store.imported_done(local_id)
            changed.append(local_id)
            if progress is not None:
                progress(len(changed), total)
        new = [p for p in plan.incidents if p.local_id is None and p.entries]
        new_rows = []  # their index rows: not the incidents (every entry of a whole store's bundle)
        for start in range(0, len(new), BATCH):  # (its numbers here are 1, 2, ...)
            chunk = new[start:start + BATCH]
            specs = []
            for p in chunk:
                seqs = {(e["store"], e["incident"], e["seq"]): n for n, e in enumerate(p.entries, 1)}
                specs.append([_spec(e, seqs) for e in p.entries])
            for p, inc in zip(chunk, store.imported_many(specs)):
                made.append((p.uid, inc.id))
                changed.append(inc.id)
                new_rows.append((inc.id, store.index_row(inc)))
            if progress is not None:
                progress(len(changed), total)
        store.imported_indexed(new_rows)
        uid_index.add(store, made)
        for d in plan.drafts:
            local = None
            if d["incident"] is not None:
                local = uid_index.lookup(store, [(d["incident"]["store"], d["incident"]["incident"])],
                                         own=store_id).get((d["incident"]["store"], d["incident"]["incident"]))
            store.save_draft(draft_id(plan.sender["store"], d), d["data"], operator=d["operator"], kind=d["kind"],
                             incident=local, updated_at=d["updated_at"],
                             origin={"store": plan.sender["store"], "desk": plan.sender.get("desk", ""), "id": d["id"]})
        if plan.payload is not None:
            from . import peers

            peers.note_bundle(store, plan.payload)
        return changed

    return store.import_all(work, by=by)


# --------------------------------------------------------------------------- exporting
def export_payload(store, ids: list[str] | None = None, *, created_at: str | None = None,
                   for_peer: str | None = None, drafts: bool = False) -> dict[str, Any]:
    """A payload of ``ids`` (every incident when None), each with all its entries; or, for
    the desk ``for_peer`` (its store id), only what this desk has not yet sent it
    (csirt_tui/peers.py): the entries the ledger announced since, but the ones that desk wrote."""
    from . import peers
    from .bundle import incident_record, make_payload
    from .store import parse_incident_id

    as_of = peers.tail_position(store)  # before anything is read: what comes after is sent next time
    table = peers.read(store)
    base = None
    since: dict[str, int] | None = None
    if for_peer is not None:
        row = table.get(for_peer) or {}
        base = peers._later(row.get("sent"), row.get("acked"))
        since = peers.changed_since(store, base)
        if since is None:
            base = None  # never sent, or a position this ledger no longer holds: everything
    if since is not None:
        targets = sorted((i for i in since if ids is None or i in ids), key=parse_incident_id)
    elif ids is None:  # oldest first: a desk that takes them all in numbers them in the same order
        targets = sorted((row["id"] for row in store.iter_incidents(status=None)), key=parse_incident_id)
    else:
        targets = list(ids)
    records = []
    for incident_id in targets:
        if since is not None and not store.exists(incident_id):
            continue  # a creation the ledger announced that never finished
        rec = incident_record(store.incident(incident_id), store.store_id,
                              since=(since[incident_id] - 1) if since is not None else 0)
        if for_peer is not None:
            rec["entries"] = [e for e in rec["entries"] if e["store"] != for_peer]
            if not rec["entries"]:
                continue
        records.append(rec)
    acks = {sid: row["received"] for sid, row in table.items() if row["received"] is not None}
    return make_payload(records, family=store.family, store_id=store.store_id, desk=store.desk,
                        profile=store.meta["profile"], schema=store.meta["schema"],
                        created_at=created_at or store.now().isoformat(timespec="seconds"),
                        drafts=wire_drafts(store, ids) if drafts else None,
                        as_of=as_of, base=base, complete=ids is None, acks=acks)


def wire_drafts(store, ids: list[str] | None) -> list[dict[str, Any]]:
    """The open drafts a bundle carries when asked (``--drafts``): those typed for the incidents
    it holds (``ids``; None: every incident, and the intakes not yet saved), each naming its
    incident by uid. A draft that came from the receiver goes back as any other (taken in there
    once: its id there is its content's)."""
    from .bundle import incident_uid

    out = []
    uid_of: dict[str, dict[str, str]] = {}
    for d in store.list_drafts(kind=None):
        incident = d.get("incident")
        kind = d.get("kind", "intake")
        if kind == "intake":
            if ids is not None:
                continue
            uid = None
        else:
            if not incident or (ids is not None and incident not in ids) or not store.exists(incident):
                continue
            if incident not in uid_of:
                uid_of[incident] = incident_uid(store.incident(incident), store.store_id)
            uid = uid_of[incident]
        out.append({"id": d["id"], "operator": d.get("operator") or "", "updated_at": d["updated_at"],
                    "kind": kind, "incident": uid, "data": d["data"]})
    return out


# --------------------------------------------------------------------------- what the CLI and the screen do
def encrypt_rule(profile) -> str:
    """Why a bundle needs a password or a reason, citing the store's profile's rule (Profile.send_rule:
    水戸 3(2)キ for Mito, the desk's rule where an organisation's rules say nothing; issue 16)."""
    rule = profile.send_rule
    return ("バンドルは暗号化して持ち出してください。暗号化しない場合は理由を書きます"
            f" ({rule['label']}: {rule['source']})")


@dataclass
class Written:
    path: Any
    incidents: int
    entries: int
    encrypted: bool
    drafts: int = 0


def write_bundle(store, target, *, ids: list[str] | None, password: str | None, waive_reason: str,
                 operator: str, force: bool = False, for_peer: str | None = None, drafts: bool = False) -> Written:
    """持ち出し: ``ids`` (None: every incident) to the bundle file ``target``, encrypted with
    ``password`` or, without one, only with a reason; logged in the store's exports.
    ``for_peer`` (a desk's store id): only what this desk has not yet sent that desk, and
    noted as sent once the file is written."""
    from .bundle import pack
    from .errors import DomainError
    from .fileout import check_target
    from .jsonfile import atomic_write

    if not password and not waive_reason.strip():
        raise DomainError(encrypt_rule(store.profile))
    for incident_id in ids or []:
        if not store.exists(incident_id):
            raise DomainError(f"インシデント {incident_id} はありません")
    path = check_target(target, "バンドル", store_root=store.root, force=force)
    payload = export_payload(store, ids, for_peer=for_peer, drafts=drafts)
    atomic_write(path, pack(payload, password=password.encode("utf-8") if password else None))
    entries = sum(len(i["entries"]) for i in payload["incidents"])
    doc = {"report": "bundle", "path": str(path), "incidents": len(payload["incidents"]),
           "entries": entries, "encrypted": bool(password), "waive_reason": waive_reason, "operator": operator}
    if for_peer is not None:
        doc["for"] = for_peer
    if payload.get("drafts"):
        doc["drafts"] = len(payload["drafts"])
    store.log_export(doc)
    if for_peer is not None:
        from . import peers

        peers.update_sent(store, for_peer, payload)
    return Written(path, len(payload["incidents"]), entries, bool(password), len(payload.get("drafts", [])))


def read_payload(source, *, password: str | None) -> dict[str, Any]:
    """The bundle at ``source`` read and checked whole (csirt_tui.bundle.read_bundle)."""
    from .bundle import read_bundle

    return read_bundle(source, password=password.encode("utf-8") if password else None)


def read_and_plan(store, source, *, password: str | None, payload: dict[str, Any] | None = None
                  ) -> tuple[ImportPlan, str]:
    """取り込み, first half: the bundle read and checked whole (or ``payload``, read so
    before), and what it would change. Returns the plan and the family the store takes it
    in as (a new, empty store joins the desk whose bundle it takes in first)."""
    if payload is None:
        payload = read_payload(source, password=password)
    family = store.family
    if payload["family"] != family and store.family == store.store_id and not store.count_incidents():
        family = payload["family"]
    from . import peers

    plan = plan_import(store, payload, store_id=store.store_id, family=family)
    plan.gap = peers.gap(store, payload)
    return plan, family


def take_in(store, plan: ImportPlan, family: str, *, desk: str | None = None, progress=None,
            by: str = "") -> list[str]:
    """取り込み, second half: the plan applied, all or nothing. ``by``: who imports (said to a
    desk that finds the store busy meanwhile, Store.holder)."""
    if plan.changes_nothing and family == store.family and desk is None:
        if plan.payload is not None:
            from . import peers

            with store.locked():  # nothing new, but what the sender holds of this desk
                peers.note_bundle(store, plan.payload)
        return []
    plan.family = family
    return apply_import(store, plan, store_id=store.store_id, progress=progress, desk=desk, by=by)
