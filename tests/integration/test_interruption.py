"""The interruption matrix of a renewal.

A full renewal is recorded first: every PKCS#11 call the soft ePass3000GM
sees (GMSOFT_TRACE) and every HTTP request the reference service gets. Then,
for every one of those points in turn, the renewal is interrupted there in
each way:

  PKCS#11 call N:  fail    the call returns CKR_DEVICE_ERROR (GMSOFT_FAIL)
                   kill    the process is killed right after the call did
                           its work (GMSOFT_KILL_AFTER)
                   remove  the token is pulled from call N on
                           (GMSOFT_REMOVE_AT; a new process sees it again)
  HTTP request K:  fail    the service answers 500 to every try
                   lost    the service does the work, the answer is lost
                   kill    the process is killed while the request is in
                           flight (the service finishes it)

At that moment the token must hold a usable certificate with its private
key (checked with pkcs11-tool and openssl, not with gmrenew's own code).
Then `gmrenew renew-with-code CODE` (or `renew` again when no code was
given yet) must end with exactly one new, verified certificate and its key
on the token, and the order confirmed at the service. The points come from
the recording, not from a list written by hand.
"""
import concurrent.futures
import os
import pathlib
import re
import signal
import sys
import time

import doublecert
import gmtest
from gmtest import PIN, run, need_tool, need_env

class Case:
    """One soft Ekey with one certificate of the shared service, and its own
    configuration and state directory."""

    def __init__(self, root, service, api=None, double=False):
        self.root = pathlib.Path(root)
        self.api = api
        self.double = double
        api = api or "pkcs11"
        self.root.mkdir(parents=True)
        self.service = service
        self.token = gmtest.SoftToken(self.root)
        self.token.init()
        pub, cert = self.root / "pub.pem", self.root / "cert.pem"
        if double:      # both pairs in one container (doublecert.py)
            cert, _, _ = doublecert.enroll_double(service, self.token,
                                                  self.root)
        else:
            self.token.gen_key(0, "01", "JSB0000", pub)
            service.enroll(pub, cert, days_left=30)
            self.token.import_cert(0, "01", "JSB0000", cert)
        self.old_sha = gmtest.sha256_of_pem(cert)
        self.check = gmtest.Pkcs11Check(self.token, self.root / "check")
        self.pin_file = self.root / "pin"
        self.pin_file.write_text(PIN + "\n")
        self.config = self.root / "config.ini"
        self.config.write_text(
            "[token]\nmodule = %s\n%s\n[service]\nurl = %s\nca_bundle = %s\n"
            "chain_bundle = %s\nconnect_timeout_ms = 3000\n"
            "total_timeout_ms = 10000\n\n[renewal]\nstate_dir = %s\n" % (
                self.token.module, "api = %s\n" % api if api else "",
                service.url, service.dir / "tls-ca.pem",
                service.bundle, self.root / "state"))

    def env(self, **extra):
        return self.token.env(GMRENEW_CONFIG=self.config, **extra)

    def gmrenew(self, *args, env=None, wait=True, expect=None):
        """Runs gmrenew (never with a sanitizer report); wait=False starts
        it for gmtest.collect()."""
        cmd = [need_env("GMRENEW_BIN")] + list(args)
        if not wait:
            return gmtest.spawn(cmd, env=env or self.env())
        return run(cmd, check=False, expect=expect, env=env or self.env(),
                   timeout=120)

    def renew(self, **fault_env):
        return self.gmrenew("renew", "--yes", "--pin-file", self.pin_file,
                            env=self.env(**fault_env))

    # -- what is on the token, seen through pkcs11-tool and openssl --

    def objects(self):
        return self.check.objects()

    def usable(self, key_id):
        return self.check.usable(key_id)

    def usable_pairs(self):
        ids = {i for k, i, _ in self.objects() if k == "Certificate"}
        return [i for i in sorted(ids) if self.usable(i)]

    def encryption_pairs(self):
        """Containers whose encryption certificate's key decrypts what
        openssl encrypted to it (through SKF, outside gmrenew)."""
        return doublecert.working_encryption_pairs(self.token,
                                                   self.root / "check")

    def code(self, stderr):
        """The update code: from gmrenew's output, else the journal, else
        the service's open order for the old certificate."""
        m = re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", stderr or "")
        if m:
            return m.group(1)
        for f in gmtest.journal_files(self.root / "state"):
            return f.stem
        for o in self.service.orders():
            if o["old_sha256"] == self.old_sha:
                return o["update_code"]
        return None


def check_invariant(case, what):
    pairs = case.usable_pairs()
    assert pairs, "%s: no usable certificate with its key on the token: %s" % (
        what, case.objects())
    if case.double:
        assert case.encryption_pairs(), \
            "%s: no encryption certificate with its key on the token: %s" % (
                what, doublecert.containers(case.token))


def recover_and_check(case, first, what):
    code = case.code(first.stderr)
    if code:
        p = case.gmrenew("renew-with-code", code, "--pin-file", case.pin_file)
    else:
        p = case.renew()
        code = case.code(p.stderr)
    assert p.returncode == 0, "%s: recovery exited %d\n%s\n%s" % (
        what, p.returncode, p.stdout, p.stderr)
    objs = case.objects()
    if case.double:
        check_double(case, objs, what)
    else:
        check_single(case, objs, what)
    v = case.gmrenew("--json", "verify")
    assert v.returncode == 0, "%s: verify failed: %s%s" % (what, v.stdout,
                                                           v.stderr)
    (order,) = [o for o in case.service.orders() if o["update_code"] == code]
    assert order["state"] == "confirmed", "%s: order %s" % (what, order)
    assert order["old_sha256"] == case.old_sha


def check_double(case, objs, what):
    """One container holding the new signing pair and the new encryption
    pair with their certificates."""
    kinds = sorted(k for k, _, _ in objs)
    assert kinds == ["Certificate", "Certificate", "Private Key",
                     "Private Key", "Public Key", "Public Key"], \
        "%s: expected two certificates and two key pairs, found %s" % (
            what, objs)
    names = list(doublecert.containers(case.token))
    assert len(names) == 1, "%s: containers left: %s" % (
        what, doublecert.containers(case.token))
    assert len(case.usable_pairs()) == 1, "%s: no usable signing pair" % what
    assert case.encryption_pairs() == names, \
        "%s: the new encryption pair does not work" % what


def check_single(case, objs, what):
    certs = [o for o in objs if o[0] == "Certificate"]
    privs = [o for o in objs if o[0] == "Private Key"]
    pubs = [o for o in objs if o[0] == "Public Key"]
    assert len(certs) == 1 and len(privs) == 1 and len(pubs) == 1, \
        "%s: expected one certificate and one key pair, found %s" % (what, objs)
    # SKF has no labels: a certificate it installs has none
    assert certs[0][1] == privs[0][1] and (
        certs[0][2] == "JSB0000" or case.api == "skf"), "%s: %s" % (what, objs)
    assert case.usable(certs[0][1]), "%s: the new pair is not usable" % what


def record(tmp_path, service, api=None, double=False):
    case = Case(tmp_path / "record", service, api, double)
    trace = case.root / "trace"
    before = len(service.log_lines())
    p = case.renew(GMSOFT_TRACE=trace)
    assert p.returncode == 0, p.stderr
    calls = [line.split()[:2] for line in trace.read_text().splitlines()]
    requests = [line.split()[3] for line in service.log_lines()[before:]]
    return [(int(i), f) for i, f in calls], requests


def request_kind(path):
    if path == "/v1/lookup":
        return "lookup"
    if path == "/v1/renewals":
        return "start"
    return path.rsplit("/", 1)[1]


# The exit codes an interrupted first run may end with (docs/exit-codes.md):
# a failing or vanished token is 1 (failed) or 5 (environment), a failing
# login 6; a call that fails after the renewal is complete (closing the
# session, C_Finalize) leaves it done, exit 0. A killed run dies of SIGKILL.
FIRST_EXITS = {"fail": (0, 1, 5, 6), "remove": (0, 1, 5),
               "kill": (-signal.SIGKILL,)}


def p11_case(tmp_path, service, index, func, nth, mode, api=None,
             double=False):
    what = "%s call %d (%s) %s" % (api or "PKCS#11", index, func, mode)
    case = Case(tmp_path / ("p11-%s-%d" % (mode, index)), service, api,
                double)
    error = "SAR_FAIL" if func.startswith("SKF_") else "CKR_DEVICE_ERROR"
    env = {"fail": {"GMSOFT_FAIL": "%s:%d:%s" % (func, nth, error)},
           "kill": {"GMSOFT_KILL_AFTER": index},
           "remove": {"GMSOFT_REMOVE_AT": index}}[mode]
    first = case.renew(**env)
    assert first.returncode in FIRST_EXITS[mode], \
        "%s: the interrupted run exited %d, expected one of %s\n%s" % (
            what, first.returncode, FIRST_EXITS[mode], first.stderr)
    check_invariant(case, what)
    recover_and_check(case, first, what)
    return what


def wait_for_log(service, count, timeout=60):
    deadline = time.time() + timeout
    while len(service.log_lines()) < count:
        assert time.time() < deadline, "the service did not log request %d" % count
        time.sleep(0.02)


def kill_in_flight(case, service, kind, position):
    """Kills the renewal while its request number `position` (from 0), of
    kind, is held by the service's delay fault (count 1: the service takes
    the entry when the request arrives, then waits), then lets the service
    finish it."""
    before = len(service.log_lines())
    proc = case.gmrenew("renew", "--yes", "--pin-file", case.pin_file,
                        wait=False)
    deadline = time.time() + 60
    while service.fault_entries(kind):
        assert proc.poll() is None, "the renewal ended before its %s " \
            "request: exit %d\n%s" % (kind, proc.returncode,
                                       proc.communicate()[1])
        assert time.time() < deadline, "no %s request came" % kind
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)       # inside the service's delay
    first = gmtest.collect(proc, expect=-signal.SIGKILL)
    wait_for_log(service, before + position + 1)
    return first


def http_case(tmp_path, service, kind, position, mode, api=None,
              double=False):
    what = "HTTP %s %s" % (kind, mode)
    case = Case(tmp_path / ("http-%s-%s" % (mode, kind)), service, api,
                double)
    if mode == "fail":
        service.fault(kind, "http_error", status=500)
    elif mode == "lost":
        service.fault(kind, "drop", when="after")
    else:
        service.fault(kind, "delay", ms=3000, count=1)
    try:
        if mode == "kill":
            first = kill_in_flight(case, service, kind, position)
        else:
            first = case.renew()
            assert first.returncode == 7, "%s: exit %d, want 7\n%s" % (
                what, first.returncode, first.stderr)
    finally:
        service.faults_clear()
    check_invariant(case, what)
    recover_and_check(case, first, what)
    return what


def http_points(tmp_path, requests, api, double):
    """Every HTTP point, one at a time (fault switches are service-wide),
    on a service of their own, so that they run beside the token points.
    Returns [(what, failure or None)]."""
    service = gmtest.InProcessService(tmp_path / "http").start()
    results = []
    try:
        for position, kind in enumerate(request_kind(r) for r in requests):
            for mode in ("fail", "lost", "kill"):
                try:
                    http_case(tmp_path, service, kind, position, mode, api,
                              double)
                    results.append(("HTTP %s %s" % (kind, mode), None))
                except AssertionError as e:
                    results.append(("HTTP %s %s" % (kind, mode), str(e)))
    finally:
        service.stop()
    return results


def run_matrix(tmp_path, api=None, double=False):
    """The matrix of a renewal through api (None: the default); double: of
    a double-certificate subject (both pairs in one container)."""
    need_tool("pkcs11-tool")
    started = time.time()
    service = gmtest.InProcessService(tmp_path).start()
    try:
        calls, requests = record(tmp_path, service, api, double)
        assert len(calls) > 20 and len(requests) == 4, (calls, requests)
        seen, p11_points = {}, []
        for index, func in calls:
            seen[func] = seen.get(func, 0) + 1
            p11_points.append((index, func, seen[func]))
        covered = failed = 0
        failures = []
        jobs = [(i, f, n, m) for i, f, n in p11_points
                for m in ("fail", "kill", "remove")]
        workers = int(os.environ.get("GMRENEW_MATRIX_JOBS", "3"))
        with concurrent.futures.ThreadPoolExecutor(1) as http_pool, \
                concurrent.futures.ThreadPoolExecutor(workers) as pool:
            http = http_pool.submit(http_points, tmp_path, requests, api,
                                    double)
            futures = [pool.submit(p11_case, tmp_path, service, *j, api,
                                   double)
                       for j in jobs]
            for fut in futures:
                covered += 1
                try:
                    fut.result()
                except AssertionError as e:
                    failed += 1
                    failures.append(str(e))
            for _, failure in http.result():
                covered += 1
                if failure:
                    failed += 1
                    failures.append(failure)
        label = (api or "") + (" double" if double else "")
        summary = ("interruption matrix%s: %d %s calls x 3 ways + %d "
                   "HTTP requests x 3 ways = %d points covered, %d "
                   "recovered, %d failed, in %.0f s" % (
                       " (%s)" % label.strip() if label else "", len(calls),
                       "token" if api else "PKCS#11",
                       len(requests), covered, covered - failed,
                       failed, time.time() - started))
        print("\n" + summary)
        sys.stdout.flush()
        # scripts/test.sh shows this line after ctest
        out = pathlib.Path(os.environ.get("GMRENEW_BUILD_DIR", tmp_path))
        (out / ("interruption-matrix%s.txt" % (
            "-" + label.strip().replace(" ", "-") if label else ""))
         ).write_text(summary + "\n")
        assert not failures, "\n\n".join(failures[:10])
    finally:
        service.stop()


def test_interruption_matrix(tmp_path):
    run_matrix(tmp_path)
