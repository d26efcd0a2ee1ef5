"""A writer process for the crash and concurrency tests.

usage: python writer_proc.py STORE INCIDENT_ID COUNT TAG
Appends COUNT notes to INCIDENT_ID (or to a new incident per note when
INCIDENT_ID is "new") and prints each acknowledged entry id on its own line,
flushed, only after ``append`` returned (i.e. after the durable write).
"""

import sys

from csirt_tui.store import Store


def main() -> None:
    root, incident_id, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = Store.open(root)
    for i in range(count):
        if incident_id == "new":
            inc = store.create_incident({"what": f"{tag} {i}", "received_at": None}, operator=tag)
            print(f"{inc.id}#1", flush=True)
        else:
            entry = store.append(incident_id, "note", f"{tag} {i} " + "あ" * 200, operator=tag)
            print(entry.id, flush=True)


if __name__ == "__main__":
    main()
