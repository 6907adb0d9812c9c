"""contrib/systemd: gmrenew-renew.service and .timer pass `systemd-analyze
verify` without a word; the service's own ExecStart line, run as systemd
would (no terminal, stdin from /dev/null, the PIN from a credential file),
renews, then reports "not due" with exit 0; --syslog reaches a syslog
socket with the identifier gmrenew and --log-file gets the same lines; no
PIN in either."""
import os
import pathlib
import re
import shlex
import socket
import subprocess

import gmtest

SRC = pathlib.Path(os.environ.get("GMRENEW_SOURCE_DIR", "."))
BUILD = pathlib.Path(os.environ.get("GMRENEW_BUILD_DIR", "."))

# A private mount namespace whose /dev has the usual nodes and a /dev/log
# that points at the test's socket: syslog(3) always writes to /dev/log.
WITH_DEVLOG = r'''
set -e
sock=$1; shift
mkdir -p "$TMPDIR/olddev"
mount --bind /dev "$TMPDIR/olddev"
mount -t tmpfs tmpfs /dev
for n in null zero urandom random full; do
  touch /dev/$n; mount --bind "$TMPDIR/olddev/$n" /dev/$n
done
ln -s "$sock" /dev/log
exec "$@"
'''


def unit_texts(tmp_path):
    service = (BUILD / "contrib" / "gmrenew-renew.service").read_text()
    service = service.replace(
        [l for l in service.splitlines() if l.startswith("ExecStart=")][0]
        .split("=", 1)[1].split()[0], os.environ["GMRENEW_BIN"])
    timer = (SRC / "contrib" / "systemd" / "gmrenew-renew.timer").read_text()
    (tmp_path / "gmrenew-renew.service").write_text(service)
    (tmp_path / "gmrenew-renew.timer").write_text(timer)
    return service, timer


def keys(text):
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_units_verify(tmp_path):
    unit_texts(tmp_path)
    p = subprocess.run([gmtest.need_tool("systemd-analyze"), "verify",
                        "--man=no", tmp_path / "gmrenew-renew.service",
                        tmp_path / "gmrenew-renew.timer"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and not p.stdout.strip() and \
        not p.stderr.strip(), p.stdout + p.stderr


def test_units_say_what_the_schedule_needs(tmp_path):
    service, timer = unit_texts(tmp_path)
    s, t = keys(service), keys(timer)
    assert t["OnCalendar"] == ["daily"]
    assert re.fullmatch(r"\d+h", t["RandomizedDelaySec"][0])
    assert t["Persistent"] == ["true"]
    assert s["Type"] == ["oneshot"] and s["StandardInput"] == ["null"]
    assert s["SyslogIdentifier"] == ["gmrenew"]
    assert s["LoadCredential"] == ["pin:/etc/gmrenew/pin"]
    start = shlex.split(s["ExecStart"][0])
    assert start[start.index("--pin-file") + 1] == "%d/pin"
    assert "--yes" in start and "--syslog" in start


def exec_start(world, tmp_path):
    service, _ = unit_texts(tmp_path)
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "pin").write_text(gmtest.PIN + "\n")
    (creds / "pin").chmod(0o400)
    line = keys(service)["ExecStart"][0].replace("%d", str(creds))
    return shlex.split(line)


def run_as_service(world, tmp_path, argv, sock_path):
    env = world.env(TMPDIR=tmp_path)
    return subprocess.run(
        [gmtest.need_tool("unshare"), "-m", "--propagation", "private",
         "sh", "-c", WITH_DEVLOG, "sh", sock_path] + argv,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
        start_new_session=True, timeout=120)


def test_service_line_renews_then_nothing_due(world, tmp_path):
    argv = exec_start(world, tmp_path)
    log_file = tmp_path / "gmrenew.log"
    argv = argv[:1] + ["--log-file", str(log_file)] + argv[1:]
    sock_path = str(tmp_path / "log.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(5)
    try:
        first = run_as_service(world, tmp_path, argv, sock_path)
        gmtest.assert_no_sanitizer(first)
        assert first.returncode == 0, first.stderr
        second = run_as_service(world, tmp_path, argv, sock_path)
        gmtest.assert_no_sanitizer(second)
        assert second.returncode == 0, second.stderr  # --not-due-exit 0
        lines = [sock.recv(4096).decode() for _ in range(2)]
    finally:
        sock.close()
    assert re.match(r"<13>.*gmrenew\[\d+\]: renew: action=renewed token=%s "
                    r"cert_serial=[0-9a-f]+ update_code=\S+ exit=0$" %
                    gmtest.SERIAL, lines[0]), lines[0]
    assert "action=not_due" in lines[1] and "exit=0" in lines[1], lines[1]
    assert "reason=not_due" in lines[1]
    text = log_file.read_text()
    assert oct(log_file.stat().st_mode & 0o777) == "0o600"
    assert len(text.splitlines()) == 2
    assert "action=renewed" in text.splitlines()[0]
    for where in [text] + lines + [first.stderr, second.stderr]:
        assert gmtest.PIN not in where


def test_log_file_failure_line(world, tmp_path):
    log_file = tmp_path / "run.log"
    world.service.fault("csr", "http_error", status=500)
    world.gmrenew("--log-file", log_file, "renew", "--yes", "--pin-file",
                  world.pin_file, check=7)
    (line,) = log_file.read_text().splitlines()
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ gmrenew\[\d+\]: renew: "
                    r"action=failed token=%s .* exit=7 reason=\S+ "
                    r"retryable=yes message=\".+\"$" % gmtest.SERIAL, line), line
    assert gmtest.PIN not in line
