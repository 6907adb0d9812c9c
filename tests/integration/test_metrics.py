"""`gmrenew list-certs --metrics FILE` end to end: the file is checked by
promtool, read by Debian's prometheus-node-exporter from its textfile
directory and scraped over HTTP on 127.0.0.1; the values are compared with
the certificate as the openssl command reads it, the soft token's PIN
counter and the journals of a renewal that stopped part-way."""
import datetime
import json
import os
import re
import socket
import subprocess
import time
import urllib.request

import pytest

import gmtest

SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Samples of the text format as (name, labels dict, float)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def value(samples, name, **labels):
    hits = [v for n, l, v in samples if n == name and
            all(l.get(k) == want for k, want in labels.items())]
    assert len(hits) == 1, "%s %s: %d samples" % (name, labels, len(hits))
    return hits[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def exporter(tmp_path):
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [gmtest.need_tool("prometheus-node-exporter"),
         "--collector.disable-defaults", "--collector.textfile",
         "--collector.textfile.directory=%s" % textdir,
         "--web.listen-address=127.0.0.1:%d" % port],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "exporter.err", "w"))
    url = "http://127.0.0.1:%d/metrics" % port
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "exporter.err").read_text())
            time.sleep(0.1)
    else:
        raise RuntimeError("node_exporter did not answer on " + url)

    def scrape():
        return urllib.request.urlopen(url, timeout=5).read().decode()
    yield textdir, scrape
    proc.terminate()
    proc.wait(timeout=10)


def cert_facts(world):
    pem = world.root / "cert-0-01.pem"
    end = gmtest.openssl("x509", "-in", pem, "-noout", "-enddate").stdout
    serial = gmtest.openssl("x509", "-in", pem, "-noout",
                            "-serial").stdout.strip().split("=")[1]
    when = datetime.datetime.strptime(end.strip().split("=", 1)[1],
                                      "%b %d %H:%M:%S %Y %Z")
    when = when.replace(tzinfo=datetime.timezone.utc)
    serial = serial.lower()
    while serial.startswith("00"):      # no leading zero bytes
        serial = serial[2:]
    return int(when.timestamp()), serial


def write_metrics(world, path, check=0):
    p = gmtest.gmrenew_run("list-certs", "--metrics", path, env=world.env(),
                           check=check)
    return p


def test_file_passes_promtool_and_holds_the_facts(world, tmp_path):
    out = tmp_path / "gmrenew.prom"
    write_metrics(world, out)
    text = out.read_text()
    lint = subprocess.run([gmtest.need_tool("promtool"), "check", "metrics"],
                          input=text, capture_output=True, text=True)
    # the one lint promtool has is about the unit of the days-left series,
    # which is in days on purpose (docs/fleet.md); anything else fails
    problems = [l for l in (lint.stdout + lint.stderr).splitlines()
                if l and not l.startswith('gmrenew_certificate_days_left use '
                                          'base unit "seconds"')]
    assert lint.returncode in (0, 3) and not problems, lint.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]
    s = parse(text)
    expiry, serial = cert_facts(world)
    labels = dict(token_serial=gmtest.SERIAL, cert_serial=serial,
                  gateway="JSB0000", system="CCNET")
    assert value(s, "gmrenew_certificate_expiry_timestamp_seconds",
                 **labels) == expiry
    days = value(s, "gmrenew_certificate_days_left", **labels)
    # from the time gmrenew wrote the file: a day may end while the test runs
    written = value(s, "gmrenew_metrics_timestamp_seconds")
    assert abs(written - time.time()) < 600
    assert days == (expiry - written) // 86400
    for window, want in (("online", 1), ("not_due", 0), ("offline_only", 0)):
        assert value(s, "gmrenew_certificate_renewal_window", window=window,
                     **labels) == want
    assert value(s, "gmrenew_token_pin_state", state="ok") == 1
    assert value(s, "gmrenew_token_pin_state", state="low") == 0
    assert value(s, "gmrenew_pending_renewals") == 0
    assert value(s, "gmrenew_last_run_timestamp_seconds") == 0
    assert abs(value(s, "gmrenew_metrics_timestamp_seconds") -
               time.time()) < 120


def test_not_due_certificate_window(tmp_path):
    w = gmtest.World(tmp_path, days_left=400)
    try:
        out = tmp_path / "m.prom"
        write_metrics(w, out)
        s = parse(out.read_text())
        assert value(s, "gmrenew_certificate_renewal_window",
                     window="not_due") == 1
        assert value(s, "gmrenew_certificate_days_left") in (399, 400)
    finally:
        w.close()


def test_pin_states_follow_the_token(world, tmp_path):
    out = tmp_path / "m.prom"
    for tries, state in ((5, "low"), (1, "final_try"), (0, "locked")):
        world.token.tool_run("set-tries", "--slot", 0, "--tries", tries)
        write_metrics(world, out)
        s = parse(out.read_text())
        for other in ("ok", "low", "final_try", "locked"):
            assert value(s, "gmrenew_token_pin_state",
                         state=other) == (other == state), (tries, other)


def test_no_token_leaves_the_old_file(world, tmp_path):
    out = tmp_path / "m.prom"
    write_metrics(world, out)
    before = out.read_text()
    world.token.tool_run("remove", "--slot", 0)
    p = write_metrics(world, out, check=5)
    assert "no token" in p.stderr
    assert out.read_text() == before


def test_unwritable_directory_fails(world, tmp_path):
    p = write_metrics(world, tmp_path / "missing" / "m.prom", check=1)
    assert "metrics file" in p.stderr


def test_node_exporter_scrape(world, exporter):
    textdir, scrape = exporter
    # a renewal that stopped part-way (the service failed the CSR) is
    # pending; its run is recorded as a failure
    world.service.fault("csr", "http_error", status=500)
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=7)
    world.service.faults_clear()
    write_metrics(world, textdir / "gmrenew.prom")
    body = scrape()
    s = parse("\n".join(l for l in body.splitlines()
                        if l.startswith(("gmrenew_", "node_textfile"))))
    expiry, serial = cert_facts(world)
    assert value(s, "gmrenew_certificate_expiry_timestamp_seconds",
                 cert_serial=serial) == expiry
    assert value(s, "gmrenew_pending_renewals",
                 token_serial=gmtest.SERIAL) == 1
    last_run = value(s, "gmrenew_last_run_timestamp_seconds")
    assert abs(last_run - time.time()) < 120
    assert value(s, "gmrenew_last_success_timestamp_seconds") == 0
    assert value(s, "node_textfile_scrape_error") == 0
    # the renewal finished: nothing pending, a success recorded
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    write_metrics(world, textdir / "gmrenew.prom")
    s = parse("\n".join(l for l in scrape().splitlines()
                        if l.startswith("gmrenew_")))
    assert value(s, "gmrenew_pending_renewals") == 0
    assert value(s, "gmrenew_last_success_timestamp_seconds") >= last_run
    assert value(s, "gmrenew_certificate_renewal_window",
                 window="not_due") == 1


def journal_opens(world, *args):
    """The journal files the command opens (strace), relative to journal/."""
    trace = world.root / "strace-journal.out"
    env = world.env()
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:exitcode=99"
    p = subprocess.run([gmtest.need_tool("strace"), "-f", "-qq", "-e",
                        "trace=open,openat", "-o", str(trace),
                        gmtest.need_env("GMRENEW_BIN")] + list(args),
                       env=env, capture_output=True, text=True, timeout=300)
    gmtest.assert_no_sanitizer(p)
    assert p.returncode == 0, p.stderr
    jdir = str(world.state / "journal") + "/"
    return re.findall(re.escape(jdir) + r'([^"]+\.json)"',
                      trace.read_text())


def test_closed_journals_are_not_read_again(world, tmp_path):
    """A machine that has renewed many Ekeys keeps one journal per renewal;
    what each run reads must not grow with them. A finished journal goes to
    journal/done/, and finished ones an older version left in journal/ are
    moved there by the first run that sees them: after that, the metrics
    open no journal at all."""
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    (done,) = world.journals()
    assert done.parent == world.state / "journal" / "done", done
    for i in range(40):     # as an older version left them
        (world.state / "journal" / ("OLD%02d.json" % i)).write_bytes(
            done.read_bytes())
    out = tmp_path / "m.prom"
    first = journal_opens(world, "list-certs", "--metrics", str(out))
    assert len(first) == 40, first
    assert not list((world.state / "journal").glob("*.json"))
    assert len(world.journals()) == 41
    again = journal_opens(world, "list-certs", "--metrics", str(out))
    assert again == [], again
    assert value(parse(out.read_text()), "gmrenew_pending_renewals") == 0


def test_abandoned_renewal_is_not_pending(world, tmp_path):
    """A renewal whose order can never finish (its journal marked
    "abandoned", as renew does when the service says the order was
    cancelled or expired) is not one to finish with renew-with-code: not
    counted, and its journal goes to journal/done/."""
    world.service.fault("csr", "http_error", status=500)
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=7)
    world.service.faults_clear()
    out = tmp_path / "m.prom"
    write_metrics(world, out)
    assert value(parse(out.read_text()), "gmrenew_pending_renewals") == 1
    (journal,) = world.journals()
    doc = json.loads(journal.read_text())
    doc["abandoned"] = "cancelled"
    journal.write_text(json.dumps(doc))
    write_metrics(world, out)
    assert value(parse(out.read_text()), "gmrenew_pending_renewals") == 0
    assert world.journals() == [journal.parent / "done" / journal.name]
