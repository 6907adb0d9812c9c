"""`gmrenew renew --wait`: a batch of soft Ekeys inserted and removed with
the soft token's insert/remove switches while gmrenew waits; the second
Ekey inserted at once is refused with the CA's one-Ekey rule; PINs from a
--pin-map (refused unless 0600 and the user's); a failed key does not stop
the batch; JSON per key and a summary, valid against
docs/schema/renew-wait.json; the exit code rule; umockdev presents the
Ekey on USB while the driver sees no token."""
import json
import os
import select
import shlex
import subprocess
import time

import pytest

import gmtest
from test_schema import validate

SECOND = "2000000087654321"


class Batch:
    """gmrenew renew --wait running in the background."""

    def __init__(self, world, *args, json_out=True, wrapper=()):
        cmd = list(wrapper) + [os.environ["GMRENEW_BIN"]]
        cmd += (["--json"] if json_out else []) + ["renew", "--wait"]
        self.p = subprocess.Popen(cmd + [str(a) for a in args],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env=world.env(), start_new_session=True)
        self.err = ""
        self.pending = {}

    def _line(self, stream, timeout):
        """The next whole line of stream, or None after timeout. Reads the
        descriptor itself: select() does not see what a buffered reader
        already holds, so readline() would lose lines that came together."""
        fd = stream.fileno()
        end = time.monotonic() + timeout
        while b"\n" not in self.pending.get(fd, b""):
            r, _, _ = select.select([fd], [], [],
                                    max(0.0, end - time.monotonic()))
            chunk = os.read(fd, 65536) if r else b""
            if not chunk:
                return None
            self.pending[fd] = self.pending.get(fd, b"") + chunk
        line, rest = self.pending[fd].split(b"\n", 1)
        self.pending[fd] = rest
        return line.decode() + "\n"

    def wait_stderr(self, text, timeout=60):
        end = time.monotonic() + timeout
        while text not in self.err:
            line = self._line(self.p.stderr, max(0.1, end - time.monotonic()))
            if line:
                self.err += line
            elif time.monotonic() > end or self.p.poll() is not None:
                raise AssertionError("no %r on stderr:\n%s" % (text, self.err))

    def json_line(self, timeout=120):
        line = self._line(self.p.stdout, timeout)
        assert line, "no JSON line; stderr:\n" + self.err
        return json.loads(line)

    def finish(self, timeout=60):
        fds = self.p.stdout.fileno(), self.p.stderr.fileno()
        out, err = self.p.communicate(timeout=timeout)
        out = self.pending.pop(fds[0], b"").decode() + out
        self.err += self.pending.pop(fds[1], b"").decode() + err
        gmtest.assert_no_sanitizer(subprocess.CompletedProcess(
            [], self.p.returncode, out, self.err))
        return self.p.returncode, out


def two_ekeys(world, tmp_path):
    world.token.init(slot=1, label="second Ekey", serial=SECOND)
    world.add_cert(slot=1, key_id="01", days_left=20)
    for slot in (0, 1):
        world.token.tool_run("remove", "--slot", slot)
    pin_map = tmp_path / "pins"
    pin_map.write_text("# serial pin\n%s %s\n%s %s\n" % (
        gmtest.SERIAL, gmtest.PIN, SECOND, gmtest.PIN))
    pin_map.chmod(0o600)
    return pin_map


def test_batch_of_two_one_at_a_time(world, tmp_path):
    pin_map = two_ekeys(world, tmp_path)
    # both Ekeys inserted at once: refused, the batch waits
    for slot in (0, 1):
        world.token.tool_run("insert", "--slot", slot)
    b = Batch(world, "--count", 2, "--pin-map", pin_map, "--timeout", 120)
    b.wait_stderr("2 Ekeys are inserted (%s, %s): the CA's rule is one Ekey "
                  "at a time" % (gmtest.SERIAL, SECOND))
    world.token.tool_run("remove", "--slot", 1)
    first = validate(b.json_line(), "renew-wait.json")
    assert first["action"] == "renewed" and first["batch_index"] == 1
    assert first["token_serial"] == gmtest.SERIAL
    b.wait_stderr("Ekey %s is done: remove it" % gmtest.SERIAL)
    time.sleep(1)        # still inserted: not renewed again
    world.token.tool_run("remove", "--slot", 0)
    b.wait_stderr("waiting for an Ekey")
    world.token.tool_run("insert", "--slot", 1)
    second = validate(b.json_line(), "renew-wait.json")
    assert second["action"] == "renewed" and second["token_serial"] == SECOND
    summary = validate(b.json_line(), "renew-wait.json")
    code, _ = b.finish()
    assert code == 0 and summary["exit_code"] == 0
    assert [r["token_serial"] for r in summary["summary"]] == [
        gmtest.SERIAL, SECOND]
    assert summary["summary"][0]["update_code"] == first["update_code"]
    assert summary["summary"][1]["new_not_after"] == second["new_not_after"]
    assert gmtest.PIN not in b.err
    # both Ekeys hold their new certificate
    for slot in (0, 1):
        world.token.tool_run("insert", "--slot", slot)
    env_a = world.env()
    for serial, nb in ((gmtest.SERIAL, first), (SECOND, second)):
        doc = json.loads(gmtest.gmrenew_run(
            "--json", "--token", "pkcs11:serial=" + serial, "list-certs",
            env=env_a, check=0).stdout)
        assert doc["certificates"][0]["sha256"] == nb["certificate"]["sha256"]


def test_failed_key_does_not_stop_the_batch(world, tmp_path):
    pin_map = two_ekeys(world, tmp_path)
    pin_map.write_text("%s %s\n%s Wrong-Pin-1\n" % (gmtest.SERIAL, gmtest.PIN,
                                                    SECOND))
    b = Batch(world, "--count", 2, "--pin-map", pin_map, json_out=False)
    b.wait_stderr("waiting for an Ekey")
    world.token.tool_run("insert", "--slot", 1)
    b.wait_stderr("Ekey %s is done" % SECOND)
    world.token.tool_run("remove", "--slot", 1)
    world.token.tool_run("insert", "--slot", 0)
    code, out = b.finish(timeout=120)
    assert code == 6, out + b.err       # the PIN failure is the worst
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("Serial"))
    assert lines[header].split() == ["Serial", "Gateway", "Result", "New",
                                     "expiry", "Update", "code"]
    rows = [l.split() for l in lines[header + 1:header + 3]]
    assert rows[0][:3] == [SECOND, "JSB0000", "failed"]
    assert rows[1][:3] == [gmtest.SERIAL, "JSB0000", "renewed"]
    assert "Wrong-Pin-1" not in out + b.err
    assert "2 Ekey(s): exit code 6" in out


def test_not_due_key_counts_as_success(tmp_path):
    w = gmtest.World(tmp_path, days_left=400)
    try:
        p = gmtest.gmrenew_run("--json", "renew", "--wait", "--count", 1,
                               "--pin-file", w.pin_file, env=w.env(),
                               check=0, timeout=60)
        key, summary = [json.loads(l) for l in p.stdout.splitlines()]
        validate(key, "renew-wait.json")
        validate(summary, "renew-wait.json")
        assert key["action"] == "not_due" and summary["exit_code"] == 0
    finally:
        w.close()


def test_pin_map_must_be_private(world, tmp_path):
    pin_map = tmp_path / "pins"
    pin_map.write_text("%s %s\n" % (gmtest.SERIAL, gmtest.PIN))
    pin_map.chmod(0o640)
    p = world.gmrenew("renew", "--wait", "--pin-map", pin_map, check=2)
    assert "mode 0600" in p.stderr
    pin_map.chmod(0o600)
    os.chown(pin_map, 65534, 65534)
    p = world.gmrenew("renew", "--wait", "--pin-map", pin_map, check=2)
    assert "owned by you" in p.stderr


def test_timeout_without_a_key(world):
    world.token.tool_run("remove", "--slot", 0)
    t0 = time.monotonic()
    p = world.gmrenew("--json", "renew", "--wait", "--timeout", 1,
                      "--pin-file", world.pin_file, check=5)
    assert time.monotonic() - t0 < 20
    doc = validate(json.loads(p.stdout), "error.json")
    assert doc["error"]["reason"] == "no_token"


def test_interrupt_ends_the_batch_with_the_summary(world, tmp_path):
    b = Batch(world, "--pin-file", world.pin_file, json_out=False)
    first = b.wait_stderr("Ekey %s is done: remove it" % gmtest.SERIAL)
    b.p.send_signal(2)
    code, out = b.finish()
    assert code == 0 and "1 Ekey(s): exit code 0" in out


def test_usb_ekey_without_token_under_umockdev(world, tmp_path):
    world.token.tool_run("remove", "--slot", 0)
    usb = os.path.join(os.environ["GMRENEW_SOURCE_DIR"], "tests", "usb",
                       "epass3000gm.umockdev")
    p = subprocess.run([gmtest.need_tool("umockdev-run"), "--device", usb,
                        "--", os.environ["GMRENEW_BIN"], "renew", "--wait",
                        "--timeout", "1", "--pin-file", str(world.pin_file)],
                       capture_output=True, text=True, timeout=60,
                       env=world.env(ASAN_OPTIONS=os.environ.get(
                           "ASAN_OPTIONS", "") + ":verify_asan_link_order=0"))
    gmtest.assert_no_sanitizer(p)
    assert p.returncode == 5
    assert "1 Ekey(s) on USB, but the driver sees no token yet" in p.stderr
    q = world.gmrenew("renew", "--wait", "--timeout", 1, "--pin-file",
                      world.pin_file, check=5)
    assert "on USB" not in q.stderr


def test_usb_events_drive_the_wait(world, tmp_path):
    """Where the bus gives hotplug events (here umockdev's testbed, with
    real uevents), the wait sleeps until an Ekey arrives or leaves and says
    so, then looks at the driver: the key is renewed as it comes, and its
    removal is seen as it happens."""
    world.token.tool_run("remove", "--slot", 0)
    usb = os.path.join(os.environ["GMRENEW_SOURCE_DIR"], "tests", "usb")
    err = tmp_path / "stderr"
    tool = shlex.quote(str(world.token.tool))
    steps = ",".join([
        "sleep:1.5", "add", "run:%s insert --slot 0" % tool,
        "until:%s=is done: remove it" % err,
        "run:%s remove --slot 0" % tool, "remove"])
    with open(err, "w") as f:
        p = subprocess.run(
            [gmtest.need_tool("umockdev-wrapper"), "/usr/bin/python3",
             os.path.join(usb, "hotplug.py"),
             os.path.join(usb, "epass3000gm.umockdev"), steps, "--",
             os.environ["GMRENEW_BIN"], "-v", "renew", "--wait", "--count",
             "2", "--timeout", "8", "--pin-file", str(world.pin_file)],
            stdout=subprocess.PIPE, stderr=f, text=True, timeout=120,
            env=world.env(ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                          ":verify_asan_link_order=0"))
    text = err.read_text()
    for mark in gmtest.SANITIZER_MARKS:
        assert mark not in text, text
    assert p.returncode == 0, text
    assert "waiting by USB events" in text, text
    arrived = text.index("an Ekey arrived on USB")
    done = text.index("is done: remove it")
    assert arrived < text.index("[8/8]") < done, text
    assert text.index("an Ekey left USB") > done, text
    world.token.tool_run("insert", "--slot", 0)
    (cert,) = world.certs()
    assert cert["days_left"] > 1000


def test_timeout_while_the_ekey_stays_ends_the_batch(world):
    p = world.gmrenew("--json", "renew", "--wait", "--timeout", 2,
                      "--pin-file", world.pin_file, check=0, timeout=60)
    docs = [json.loads(l) for l in p.stdout.splitlines()]
    assert [d.get("action") for d in docs[:-1]] == ["renewed"]
    assert len(docs[-1]["summary"]) == 1
