"""`gmrenew renew` and `renew-with-code` end to end: a soft ePass3000GM (SM2)
and SoftHSM2 (P-256) against the reference renewal service over TLS."""
import fcntl
import json
import os
import pty
import re
import select
import stat
import time

import pytest

import gmtest
from gmtest import PIN


def journal_files(world):
    d = world.state / "journal"
    return sorted(d.glob("*.json")) if d.exists() else []


def kinds(world, slot=0):
    """The object kinds on the soft token, sorted."""
    return sorted(line.split("\t")[1] for line in
                  world.token.listing(slot).splitlines() if "\t" in line)


def orders(world):
    return world.service.orders()


def test_full_renewal_on_the_soft_ekey(world):
    before = world.certs()
    assert len(before) == 1 and before[0]["renewal"] == "online"
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    code = re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr).group(1)
    assert "[8/8]" in p.stderr
    after = world.certs()
    assert len(after) == 1
    new = after[0]
    assert new["sha256"] != before[0]["sha256"]
    assert new["subject"] == before[0]["subject"]
    assert new["has_private_key"] is True
    assert new["label"] == "JSB0000"
    # about five years more: exactly 1826 days after the old end
    assert new["days_left"] - before[0]["days_left"] in range(1825, 1828)
    assert "Validity extended by 1826 days" in p.stdout
    world.gmrenew("verify", check=0)
    # the order is confirmed at the service
    (order,) = [o for o in orders(world) if o["update_code"] == code]
    assert order["state"] == "confirmed"
    # the journal: 0600, every step, no PIN
    (journal,) = journal_files(world)
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    doc = json.loads(journal.read_text())
    assert [s["step"] for s in doc["steps"]] == [
        "started", "key_generated", "issued", "verified", "installed",
        "confirmed", "retired"]
    assert PIN not in journal.read_text()
    # the token holds exactly one certificate and one key pair
    assert kinds(world) == ["certificate", "private-key", "public-key"]
    # running renew-with-code on a finished renewal changes nothing
    p = world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file, check=0)
    assert "already complete" in p.stdout
    assert world.certs() == after


def test_json_result(world):
    doc = world.json("renew", "--pin-file", world.pin_file)
    assert doc["ok"] is True
    assert doc["state"] == "confirmed"
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", doc["update_code"])
    assert doc["days_added"] == 1826
    assert {c["id"]: c["status"] for c in doc["checks"]} == {
        "chain": "pass", "validity": "pass", "key": "pass", "new_key": "pass",
        "renewal": "pass"}


def test_not_due_exits_3(tmp_path):
    w = gmtest.World(tmp_path, days_left=200)
    try:
        p = w.gmrenew("renew", "--pin-file", w.pin_file, check=3)
        assert "not due" in p.stderr or "opens 90 days" in p.stderr
        assert w.service.orders() == []
    finally:
        w.close()


def test_offline_only_exits_4_and_explains(tmp_path):
    w = gmtest.World(tmp_path, days_left=-100)
    try:
        p = w.gmrenew("renew", "--pin-file", w.pin_file, check=4)
        assert "证书业务信息表" in p.stderr and "mail the Ekey" in p.stderr
    finally:
        w.close()
