"""The fault switches file (D/faults.json) of the reference service.

Format:
    {"rekey_allowed": true,          # server-wide re-key switch (default true)
     "clock_offset": 0,              # seconds added to the service clock (tests)
     "faults": {"<kind>": [{"type": "...", "count": N, ...}, ...]}}

Kinds: lookup, challenge, start, csr, status, confirm, cancel.
The file is re-read on every request; an entry with "count" applies to the
next N requests of its kind, then is removed; without "count" it stays.
"""

import json
import os
import threading

KINDS = ("lookup", "challenge", "start", "csr", "status", "confirm", "cancel")
CERT_TYPES = ("wrong_key", "wrong_subject", "wrong_issuer", "short_validity", "expired", "broken_chain")
TYPES = ("http_error", "delay", "drop", "malformed", "oversized", "skew", "issue_error") + CERT_TYPES
# answer rewrites (answer_faults.py): a service that lies about the renewal
ANSWER_TYPES = ("fake_code", "confirmed_old", "old_fp_new", "old_fp_other", "cert_for_key")
TYPES = TYPES + ANSWER_TYPES
# hostile_certs.py: certificate faults with their own parameters (pubkey)
from hostile_certs import TYPES as HOSTILE_CERT_TYPES  # noqa: E402
TYPES += HOSTILE_CERT_TYPES
# kmc_faults.py: the encryption part of a csr/status answer (protocol 1.1)
from kmc_faults import TYPES as KMC_TYPES  # noqa: E402
TYPES += KMC_TYPES


class FaultFile:
    """Reads and updates D/faults.json; safe across threads of one process."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "faults.json")
        self.lock = threading.Lock()

    def read(self):
        """Current content ({} when the file is absent or unreadable)."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write(self, data):
        """Replace the file atomically."""
        tmp = self.path + ".tmp.%d" % os.getpid()
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, ensure_ascii=False)
        os.replace(tmp, self.path)

    def take(self, kind):
        """The fault entries applying to this request of kind; counts decremented."""
        with self.lock:
            data = self.read()
            entries = data.get("faults", {}).get(kind) or []
            if not isinstance(entries, list):
                return []
            active, kept, changed = [], [], False
            for entry in entries:
                if not isinstance(entry, dict):
                    continue
                active.append(entry)
                count = entry.get("count")
                if count is None:
                    kept.append(entry)
                    continue
                changed = True
                if int(count) > 1:
                    kept.append(dict(entry, count=int(count) - 1))
            if changed:
                data.setdefault("faults", {})[kind] = kept
                self.write(data)
            return active

    def add(self, kind, entry):
        """Append a fault entry for kind."""
        if kind not in KINDS:
            raise ValueError("unknown kind %r" % kind)
        if entry.get("type") not in TYPES:
            raise ValueError("unknown fault type %r" % entry.get("type"))
        with self.lock:
            data = self.read()
            data.setdefault("faults", {}).setdefault(kind, []).append(entry)
            self.write(data)

    def set(self, key, value):
        """Set a server-wide switch (rekey_allowed, clock_offset)."""
        with self.lock:
            data = self.read()
            data[key] = value
            self.write(data)

    def clear(self):
        """Remove all faults and switches."""
        with self.lock:
            self.write({})
