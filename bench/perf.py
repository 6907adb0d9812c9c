"""The benchmark behind docs/performance.md: token calls by function, CPU,
instructions, peak RSS and wall time of gmrenew beside pkcs11-tool and
p11tool, a renewal against its floor, verify on many certificates,
check-env, and renewals in a row. Run through bench/run (it builds a
Release tree and sets the paths); `bench/run --smoke` checks the call
counts only, against the targets below, and fails when one is exceeded.

Tokens: the soft ePass3000GM (tests/softtoken; its GMSOFT_TRACE counts the
calls, GMSOFT_LATENCY adds a USB key's latency) and SoftHSM2 (OpenSC's
pkcs11-spy counts the calls), each with N certificates, with and without
their key pairs."""
import argparse
import collections
import json
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
import gmtest                      # noqa: E402
from certmaker import Maker, openssl, bundle, SM2_ID  # noqa: E402

SPY = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
# Calls answered by the library itself, not by the token: not counted
# (the soft token's trace leaves C_GetFunctionList out too).
NOT_TOKEN_CALLS = {"C_GetFunctionList", "C_GetInterface", "C_GetInterfaceList"}
SUBJECT = "CN=JSB%04d@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"

# The targets (each one a line of the report).
def list_target(n):
    return 8 + 2 * n


# What this version makes, as (fixed calls, calls per certificate with its
# key pair), the least of the forms given: the soft ePass3000GM's
# container objects are read one by one below 6 pairs, named by a second
# search from then on. The smoke test fails above these, so the counts
# cannot grow unseen, and says which target is missed.
LIST_MEASURED = {"soft ePass3000GM": ((10, 3), (14, 2)),
                 "SoftHSM2": ((13, 2),),
                 "soft ePass3000GM (SKF)": ((8, 5),)}


# The least calls each API allows list-certs above 8 + 2N, each shown by a
# measurement of the run (proofs_part, the calls by function): the
# search's empty answer (a module may page its answers), the session's
# close, FEITIAN's container objects (read, or named by a search of their
# class: min(N, 4)), SoftHSM2's second slot and the profile detection (a
# token no strings name), SKF's container handle (open, close) and its
# encryption certificate per container.
def list_floor(token, n):
    if token == SKF_TOKEN:
        extra = 2 if n * SOFT_NAME_BYTES > SKF_LIST_GUESS else 0
        return 8 + 5 * n + extra
    if token == "SoftHSM2":
        return 8 + 2 * n + 2 + 1 + 2
    return 8 + 2 * n + 2 + min(n, 4)


# SKF reads a name list with a 1 KiB buffer first: the soft token's
# container names take 20 bytes each, so from 52 containers on the list
# is read by size, then value (2 calls more).
SKF_LIST_GUESS, SOFT_NAME_BYTES = 1024, 20


def list_ceiling(token, n):
    extra = 2 if token == SKF_TOKEN and n * SOFT_NAME_BYTES > \
        SKF_LIST_GUESS else 0
    return min(fixed + per * n for fixed, per in LIST_MEASURED[token]) + extra


RENEW_TARGET = 36          # PKCS#11 calls of one renewal
RENEW_UNAVOIDABLE = 33     # the calls a renewal cannot do without
RENEW_P11_MEASURED = 35    # PKCS#11 calls of one renewal in this version
# SKF: the least a renewal can make (bench/performance-notes.md names each)
# is what this version makes: the device (SKF_EnumDev, SKF_ConnectDev,
# SKF_GetDevInfo), the application (SKF_EnumApplication,
# SKF_OpenApplication), the PIN (SKF_GetPINInfo, SKF_VerifyPIN), the
# containers (SKF_EnumContainer; the old one: SKF_OpenContainer,
# SKF_ExportPublicKey, SKF_ExportCertificate for each half), the proof of
# possession (SKF_ECCSignData), the new pair (SKF_CreateContainer,
# SKF_GenECCKeyPair, two signatures, SKF_ImportCertificate, the
# certificate read back, the confirming signature), the old one retired
# (SKF_CloseContainer, SKF_DeleteContainer) and the end (SKF_CloseContainer
# of the new one, SKF_ClearSecureState, SKF_CloseApplication,
# SKF_DisConnectDev).
RENEW_SKF_UNAVOIDABLE = 26
RENEW_SKF_MEASURED = 26
CHECK_ENV_TARGET = 15
CPU_TARGET = {1: 1.2, 100: 0.8}   # gmrenew CPU / pkcs11-tool CPU
RSS_MARGIN_KIB = 2048
VERIFY_TARGET_S = 1.0
FLAT = 0.10
USB = {"call": 20, "keygen": 1000, "sign": 200}   # ms, a real Ekey
LIST_LATENCY = 10                                 # ms per call


def latency_spec(lat):
    return "call:%d,keygen:%d,sign:%d" % (lat["call"], lat["keygen"],
                                           lat["sign"])


# ---- running and measuring one process ----

_RUSAGE = []


def rusage_tool():
    """bench/rusage.c, built once into the work directory."""
    if not _RUSAGE:
        out = pathlib.Path(tempfile.mkdtemp(prefix="gmrenew-rusage-")) / "rusage"
        subprocess.run(["cc", "-O2", "-o", str(out), str(HERE / "rusage.c")],
                       check=True)
        _RUSAGE.append(out)
    return _RUSAGE[0]


def rusage_run(cmd, env):
    """Runs cmd under bench/rusage: wall s, cpu (user+sys) s, peak RSS KiB,
    exit code; output discarded."""
    t = time.monotonic()
    p = subprocess.run([str(rusage_tool())] + [str(c) for c in cmd], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, errors="replace")
    wall = time.monotonic() - t
    m = re.search(r"^rusage: (\d+) (\d+) (\d+) (\d+) (-?\d+)$", p.stderr,
                  re.M)
    if not m:
        raise RuntimeError("rusage failed: " + p.stderr[-300:])
    delay = int(m.group(5))
    return {"wall": wall, "cpu": (int(m.group(1)) + int(m.group(2))) / 1e6,
            "rss": int(m.group(3)), "rc": int(m.group(4)),
            "run_delay": delay / 1e6 if delay >= 0 else None}


def instructions(cmd, env, workdir):
    """Instructions executed (valgrind's callgrind, Ir), all threads."""
    out = pathlib.Path(workdir) / "callgrind.out"
    p = subprocess.run([gmtest.need_tool("valgrind"), "--tool=callgrind",
                        "--callgrind-out-file=%s" % out] +
                       [str(c) for c in cmd], env=env,
                       capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if not m:
        raise RuntimeError("callgrind gave no count: " + p.stderr[-400:])
    out.unlink(missing_ok=True)
    return int(m.group(1))


def count_trace(path):
    """{function: calls} from the soft token's GMSOFT_TRACE file."""
    c = collections.Counter()
    for line in pathlib.Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            c[parts[1]] += 1
    return c


def count_spy(path):
    """{function: calls} from pkcs11-spy's log."""
    c = collections.Counter()
    for line in pathlib.Path(path).read_text(errors="replace").splitlines():
        m = re.match(r"^\d+: (C_\w+)", line)
        if m and m.group(1) not in NOT_TOKEN_CALLS:
            c[m.group(1)] += 1
    return c


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ---- tokens with N certificates ----

class Certs:
    """N leaf certificates of one root, SM2 or P-256, each with its own
    key (made once and reused by every token of that kind)."""

    def __init__(self, root_dir, kind, n):
        self.m = Maker(pathlib.Path(root_dir) / ("certs-%s" % kind))
        self.root = self.m.root("bench-root-" + kind,
                                "CN=Bench Root CA,O=SSCCCA,C=CN", kind=kind)
        self.kind = kind
        self.leaves = []
        self.grow(n)

    def grow(self, n):
        while len(self.leaves) < n:
            i = len(self.leaves)
            self.leaves.append(self.m.issue(self.root, "leaf%d" % i,
                                            SUBJECT % i, kind=self.kind,
                                            days=300))


class Soft:
    """The soft ePass3000GM with the first n certificates of certs."""
    name = "soft ePass3000GM"

    def __init__(self, root_dir, certs, n, keys):
        self.root = pathlib.Path(root_dir)
        self.token = gmtest.SoftToken(self.root)
        self.token.init(serial="3000A10000000001")
        self.module = self.token.module
        for i, leaf in enumerate(certs.leaves[:n]):
            kid = "%04x" % (i + 1)
            if keys:
                self.token.import_key(0, kid, "key %d" % i, leaf.key)
            self.token.import_cert(0, kid, "cert %d" % i, leaf.pem)
        self.n, self.keys = n, keys

    def env(self, **extra):
        env = self.token.env(**extra)
        env.pop("GMRENEW_PIN", None)
        return env

    def calls(self, cmd_fn, workdir, latency=None):
        trace = pathlib.Path(workdir) / "trace"
        trace.unlink(missing_ok=True)
        extra = {"GMSOFT_TRACE": trace}
        if latency:
            extra["GMSOFT_LATENCY"] = latency
        t = time.monotonic()
        p = subprocess.run([str(c) for c in cmd_fn(self.module)],
                           env=self.env(**extra), capture_output=True)
        wall = time.monotonic() - t
        return count_trace(trace), wall, p


SKF_TOKEN = "soft ePass3000GM (SKF)"


class Hsm:
    """SoftHSM2 with the first n certificates of certs (P-256 key pairs:
    SoftHSM2 has no SM2)."""
    name = "SoftHSM2"

    def __init__(self, root_dir, certs, n, keys):
        self.hsm = gmtest.SoftHSM(pathlib.Path(root_dir), label="bench")
        self.module = self.hsm.module
        for i, leaf in enumerate(certs.leaves[:n]):
            kid = "%04x" % (i + 1)
            if keys:
                self.hsm.import_key(kid, "key %d" % i, leaf.key)
                gmtest.softhsm_import_pubkey(self.hsm, kid, "key %d" % i,
                                             leaf.pubkey_pem())
            self.hsm.import_cert(kid, "cert %d" % i, leaf.pem)
        self.n, self.keys = n, keys

    def env(self, **extra):
        env = self.hsm.env(**extra)
        env.pop("GMRENEW_PIN", None)
        return env

    def calls(self, cmd_fn, workdir, latency=None):
        log = pathlib.Path(workdir) / "spy.log"
        log.unlink(missing_ok=True)
        env = self.env(PKCS11SPY=self.module, PKCS11SPY_OUTPUT=log)
        # pkcs11-spy leaks a little when unloaded: not gmrenew's (its leaks
        # are checked on the soft token runs), so no leak check here
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":detect_leaks=0").lstrip(":")
        t = time.monotonic()
        p = subprocess.run([str(c) for c in cmd_fn(SPY)], env=env,
                           capture_output=True)
        wall = time.monotonic() - t
        return count_spy(log), wall, p


# ---- the commands compared ----

def no_config(workdir):
    path = pathlib.Path(workdir) / "empty.ini"
    path.write_text("")
    return path


def gmrenew_list(workdir, api="pkcs11"):
    """gmrenew list-certs through api, named (auto would take SKF for an
    ePass3000GM whose library exports both)."""
    cfg = no_config(workdir)
    extra = ["--api", api] if api else []
    return lambda module: ["env", "GMRENEW_CONFIG=%s" % cfg,
                           gmtest.need_env("GMRENEW_BIN"), "--module",
                           module] + extra + ["--json", "list-certs"]


def pkcs11_tool_list(module):
    return [gmtest.need_tool("pkcs11-tool"), "--module", module,
            "--list-objects", "--type", "cert"]


def p11tool_list(module):
    return [gmtest.need_tool("p11tool"), "--provider", module,
            "--list-all-certs", "pkcs11:"]


def tool_cmds(workdir):
    return [("gmrenew list-certs --json", gmrenew_list(workdir)),
            ("pkcs11-tool --list-objects --type cert", pkcs11_tool_list),
            ("p11tool --list-all-certs", p11tool_list)]


def direct(cmd):
    """A command line without the `env VAR=...` prefix, with its env."""
    if cmd[0] != "env":
        return cmd, {}
    extra, i = {}, 1
    while "=" in str(cmd[i]) and not str(cmd[i]).startswith("/"):
        k, _, v = str(cmd[i]).partition("=")
        extra[k] = v
        i += 1
    return cmd[i:], extra


# ---- the parts of the run ----

def list_certs_part(report, workdir, ns, runs, smoke):
    """Calls (every token, N, keys or not) and CPU/RSS (all but smoke)."""
    certs = {"sm2": Certs(workdir, "sm2", max(ns)),
             "p256": Certs(workdir, "p256", max(ns))}
    rows = []
    for n in ns:
        for keys in (True, False):
            for cls in (Soft, Hsm):
                d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
                kind = "p256" if (cls is Hsm and keys) else "sm2"
                tok = cls(d, certs[kind], n, keys)
                row = {"token": cls.name, "n": n, "keys": keys,
                       "kind": kind, "tools": {}}
                for name, fn in tool_cmds(d):
                    calls, _, p = tok.calls(fn, d)
                    if name.startswith("gmrenew") and p.returncode != 0:
                        raise RuntimeError("gmrenew list-certs failed: %s" %
                                           p.stderr.decode(errors="replace"))
                    row["tools"][name] = {"calls": sum(calls.values()),
                                          "by_function": dict(calls)}
                if cls is Soft and keys:
                    # SKF sees a certificate in its key pair's container
                    calls, _, p = tok.calls(gmrenew_list(d, "skf"), d)
                    if p.returncode != 0:
                        raise RuntimeError("gmrenew --api skf list-certs "
                                           "failed: %s" % p.stderr.decode(
                                               errors="replace"))
                    row["skf"] = {"calls": sum(calls.values()),
                                  "by_function": dict(calls)}
                if not smoke and cls is Soft:
                    row["wall_10ms"] = soft_list_wall(tok, d, runs)
                if not smoke:
                    row["cpu"] = cpu_rows(tok, d, runs)
                rows.append(row)
                print("list-certs %s N=%d keys=%s: %s%s" % (
                    cls.name, n, keys, {k: v["calls"] for k, v in
                                        row["tools"].items()},
                    ", SKF %d" % row["skf"]["calls"] if "skf" in row
                    else ""), flush=True)
    report["list_certs"] = rows


def spy_finds(path):
    """The answers of every C_FindObjects in a pkcs11-spy log, in order, as
    (handles asked for, handles given); and the slots C_GetSlotList gave."""
    finds, slots, asked, in_find = [], None, None, False
    for line in pathlib.Path(path).read_text(errors="replace").splitlines():
        m = re.match(r"^\d+: (C_\w+)", line)
        if m:
            in_find = m.group(1) == "C_FindObjects"
            in_slots = m.group(1) == "C_GetSlotList"
            continue
        m = re.match(r"^\[in\] ulMaxObjectCount = 0x([0-9a-f]+)", line)
        if in_find and m:
            asked = int(m.group(1), 16)
        m = re.match(r"^\[out\] ulObjectCount = 0x([0-9a-f]+)", line)
        if in_find and m:
            finds.append((asked, int(m.group(1), 16)))
        m = re.match(r"^\[out\] \*pulCount = 0x([0-9a-f]+)", line)
        if not in_find and m and in_slots:
            slots = int(m.group(1), 16)
    return finds, slots


def spied(tok, cmd_fn, workdir, **extra):
    """cmd through pkcs11-spy around tok's module: (JSON output, calls by
    function, C_FindObjects answers, slots listed)."""
    log = pathlib.Path(workdir) / "proof-spy.log"
    log.unlink(missing_ok=True)
    env = tok.env(PKCS11SPY=tok.module, PKCS11SPY_OUTPUT=log, **extra)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":detect_leaks=0").lstrip(":")
    p = subprocess.run([str(c) for c in cmd_fn(SPY)], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("gmrenew under pkcs11-spy exited %d: %s" % (
            p.returncode, p.stderr[-400:]))
    finds, slots = spy_finds(log)
    return json.loads(p.stdout), count_spy(log), finds, slots


def profile_config(workdir, name):
    path = pathlib.Path(workdir) / ("profile-%s.ini" % name)
    path.write_text("[token]\nprofile = %s\n" % name)
    return path


def gmrenew_list_profile(workdir, profile):
    cfg = profile_config(workdir, profile)
    return lambda module: ["env", "GMRENEW_CONFIG=%s" % cfg,
                           gmtest.need_env("GMRENEW_BIN"), "--module",
                           module, "--api", "pkcs11", "--json", "list-certs"]


PAGE = 16   # GMSOFT_FIND_MAX of the paging proof


def proofs_part(report, workdir):
    """The measurements behind the calls above 8 + 2N: a module that pages
    its search answers (the soft token's GMSOFT_FIND_MAX, as the standard
    allows), what the profile detection costs (the same listing with the
    profile named), SoftHSM2's slots, and how the soft ePass3000GM's
    container objects show in one search."""
    certs = Certs(workdir, "sm2", 10)
    out = {}
    d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    soft = Soft(d, certs, 10, True)
    js, calls, finds, _ = spied(soft, gmrenew_list(d), d,
                                GMSOFT_FIND_MAX=PAGE)
    out["paging"] = {"n": 10, "page": PAGE, "finds": finds,
                     "listed": len(js["certificates"]),
                     "first_search": finds[:next(
                         (i + 1 for i, f in enumerate(finds) if f[1] == 0),
                         len(finds))]}
    _, calls, finds, _ = spied(soft, gmrenew_list(d), d)
    out["soft_objects"] = {"n": 10, "first_answer": finds[0][1] if finds
                           else 0}
    d1 = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    soft1 = Soft(d1, certs, 1, True)
    auto = soft1.calls(gmrenew_list(d1), d1)[0]
    named = soft1.calls(gmrenew_list_profile(d1, "epass3000gm"), d1)[0]
    out["detect_soft"] = {"auto": dict(auto), "named": dict(named)}
    p256 = Certs(workdir, "p256", 1)
    d2 = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    hsm = Hsm(d2, p256, 1, True)
    _, auto, _, slots = spied(hsm, gmrenew_list(d2), d2)
    _, named, _, _ = spied(hsm, gmrenew_list_profile(d2, "pkcs11-ec"), d2)
    out["detect_hsm"] = {"auto": dict(auto), "named": dict(named),
                         "slots": slots}
    report["proofs"] = out
    print("proofs: paging %s, listed %d of 10; soft first answer %d objects; "
          "detection soft %d -> %d, SoftHSM2 %d -> %d (%s slots)" % (
              out["paging"]["first_search"], out["paging"]["listed"],
              out["soft_objects"]["first_answer"],
              sum(out["detect_soft"]["auto"].values()),
              sum(out["detect_soft"]["named"].values()),
              sum(out["detect_hsm"]["auto"].values()),
              sum(out["detect_hsm"]["named"].values()), slots), flush=True)


SLEEPER = """
import sys, time
t = time.monotonic()
for arg in sys.argv[1:]:
    n, rest = arg.split("x")
    ms, _, busy = rest.partition("+")
    for _ in range(int(n)):
        time.sleep(int(ms) / 1000.0)
        end = time.monotonic() + float(busy or 0) / 1000.0
        while time.monotonic() < end:
            pass
print(time.monotonic() - t)
"""


def sleeps_wall(n, ms, *more):
    """The wall time of n sleeps of ms each (and of more (n, ms) pairs) on
    this machine now: what the soft token's added latency alone takes (a
    loaded machine wakes a sleeper late), without gmrenew and without the
    token's work."""
    pairs = [(n, ms)] + list(more)
    return sleeper(["%dx%d" % pr for pr in pairs if pr[0]])


def sleeps_busy_wall(n, ms, busy_s):
    """The wall time of n sleeps of ms each with busy_s of work (a busy
    loop) spread over the gaps between them: a client that needs only the
    calls' latency and gmrenew's own CPU, timed on this machine now."""
    return sleeper(["%dx%d+%.4f" % (n, ms, busy_s * 1000.0 / n)])


def sleeper(args):
    """SLEEPER's own timing of its NxMS[+BUSY_MS] arguments, in seconds."""
    p = subprocess.run([sys.executable, "-c", SLEEPER] + args,
                       capture_output=True, text=True, check=True)
    return float(p.stdout.strip())


def soft_list_wall(tok, d, runs):
    """gmrenew's wall time at 10 ms per call against calls x 10 ms, and
    against the same number of 10 ms sleeps timed in between (interleaved
    runs)."""
    walls, base, sleeps, delays, calls = [], [], [], [], 0
    cpus, busy = [], []
    fn = gmrenew_list(d)
    calls = sum(tok.calls(fn, d)[0].values())
    cmd, extra = direct(fn(tok.module))
    env = dict(tok.env(), GMSOFT_LATENCY="call:%d" % LIST_LATENCY, **extra)
    for _ in range(max(3, runs // 3)):
        r = rusage_run(cmd, env)
        walls.append(r["wall"])
        cpus.append(r["cpu"])
        if r["run_delay"] is not None:
            delays.append(r["wall"] - r["run_delay"])
        sleeps.append(sleeps_wall(calls, LIST_LATENCY))
        busy.append(sleeps_busy_wall(calls, LIST_LATENCY, r["cpu"]))
        base.append(tok.calls(fn, d)[1])
    return {"median_s": median(walls), "calls": calls,
            "floor_s": calls * LIST_LATENCY / 1000.0,
            "sleeps_s": median(sleeps), "base_s": median(base),
            "cpu_s": median(cpus), "sleeps_cpu_s": median(busy),
            "unloaded_s": median(delays) if delays else None,
            "load": os.getloadavg()[0]}


def cpu_rows(tok, d, runs):
    """Interleaved runs of each tool: medians of CPU, wall, peak RSS, and
    callgrind's instruction count (once each)."""
    cmds = tool_cmds(d)
    res = {name: {"cpu": [], "wall": [], "rss": []} for name, _ in cmds}
    for _ in range(runs):
        for name, fn in cmds:
            cmd, extra = direct(fn(tok.module))
            r = rusage_run(cmd, dict(tok.env(), **extra))
            if r["rc"] != 0:
                raise RuntimeError("%s exited %d" % (name, r["rc"]))
            for k in ("cpu", "wall", "rss"):
                res[name][k].append(r[k])
    out = {}
    for name, fn in cmds:
        cmd, extra = direct(fn(tok.module))
        out[name] = {k: median(v) for k, v in res[name].items()}
        out[name]["runs"] = runs
        out[name]["instructions"] = instructions(cmd, dict(tok.env(), **extra), d)
    return out


def renew_once(w, d, latency, force=False, api="pkcs11"):
    trace = pathlib.Path(d) / "trace"
    trace.unlink(missing_ok=True)
    before = len(w.service.log_lines())
    args = (["--api", api] if api else []) + ["renew", "--yes", "--pin-file",
                                             w.pin_file]
    if force:
        args.append("--force")
    env = w.env(GMSOFT_TRACE=trace)
    if latency:
        env["GMSOFT_LATENCY"] = latency
    cmd = [gmtest.need_env("GMRENEW_BIN")] + [str(a) for a in args]
    r = rusage_run(cmd, env)
    if r["rc"] != 0:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        raise RuntimeError("renew exited %d: %s" % (r["rc"], p.stderr))
    calls = count_trace(trace)
    lines = w.service.log_lines()[before:]
    conns = {re.search(r"conn=(\d+)", l).group(1) for l in lines
             if re.search(r"conn=(\d+)", l)}
    # the service's own time for each request, as its log says
    service_ms = sum(int(m.group(1)) for m in
                     (re.search(r" (\d+)ms$", l) for l in lines) if m)
    return dict(r, calls=calls, requests=len(lines), connections=len(conns),
                service_s=service_ms / 1000.0)


KEYGEN_CALLS = ("C_GenerateKeyPair", "SKF_GenECCKeyPair")
SIGN_CALLS = ("C_Sign", "SKF_ECCSignData")


def n_of(calls, names):
    return sum(calls.get(k, 0) for k in names)


def renewal_part(report, workdir, runs, smoke, api="pkcs11", key="renewal"):
    """One renewal's calls (the soft token's trace), and its wall time
    against the floor at a USB key's latency; api "skf" renews through
    SKF."""
    res = {"latency": USB, "runs": [], "api": api}
    n_runs = 1 if smoke else runs
    unavoidable = RENEW_UNAVOIDABLE if api == "pkcs11" else \
        RENEW_SKF_UNAVOIDABLE
    for i in range(n_runs):
        d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
        w = gmtest.World(d)
        try:
            r = renew_once(w, d, None if smoke else latency_spec(USB),
                           api=api)
        finally:
            w.close()
        c = r["calls"]
        other = sum(c.values()) - n_of(c, KEYGEN_CALLS) - n_of(c, SIGN_CALLS)
        base_calls = unavoidable
        r["floor_s"] = (base_calls * USB["call"] +
                        n_of(c, KEYGEN_CALLS) * USB["keygen"] +
                        n_of(c, SIGN_CALLS) * USB["sign"]) / 1000.0
        r["token_s"] = (sum(c.values()) * USB["call"] +
                        n_of(c, KEYGEN_CALLS) * USB["keygen"] +
                        n_of(c, SIGN_CALLS) * USB["sign"]) / 1000.0
        r["other_calls"] = other
        if not smoke:
            # the floor's sleeps, timed on this machine right after
            r["floor_sleeps_s"] = sleeps_wall(
                base_calls, USB["call"],
                (n_of(c, KEYGEN_CALLS), USB["keygen"]),
                (n_of(c, SIGN_CALLS), USB["sign"]))
        r["calls_total"] = sum(c.values())
        r["calls"] = dict(c)
        if not smoke and i < 3:
            # the same renewal without added latency: what is not the token
            d0 = pathlib.Path(tempfile.mkdtemp(dir=workdir))
            w0 = gmtest.World(d0)
            try:
                r["wall_no_latency"] = renew_once(w0, d0, None,
                                                  api=api)["wall"]
            finally:
                w0.close()
        res["runs"].append(r)
        print("renewal (%s) %d: %d calls, %.2f s (floor %.2f s, service "
              "%.2f s), %d requests on %d connection(s)" % (
                  res["api"], i + 1, r["calls_total"], r["wall"],
                  r["floor_s"], r["service_s"], r["requests"],
                  r["connections"]), flush=True)
    report[key] = res


STRACE_LINE = re.compile(r"^(\d+) +(\d+):(\d+):([\d.]+) (\w+)\((.*)\) += (.*?)"
                         r"(?: <([\d.]+)>)?$")


def renewal_breakdown(report, workdir, api="pkcs11",
                      key="renewal_breakdown"):
    """Where a renewal's time goes apart from the token's calls: one
    renewal without added latency under strace (-f -tt -T -y), its waits
    on the service's socket (poll), fsyncs of gmrenew's state (journal, run
    record) and of the soft token's store, sleeps, and the start-up (the
    time until the module is loaded)."""
    d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    w = gmtest.World(d)
    out = d / "strace.txt"
    try:
        args = (["--api", api] if api else []) + [
            "renew", "--yes", "--pin-file", w.pin_file]
        t = time.monotonic()
        p = subprocess.run([gmtest.need_tool("strace"), "-f", "-tt", "-T",
                            "-y", "-o", out, "-e",
                            "trace=openat,poll,ppoll,fsync,fdatasync,"
                            "nanosleep,clock_nanosleep",
                            gmtest.need_env("GMRENEW_BIN")] +
                           [str(a) for a in args], env=w.env(),
                           capture_output=True, text=True)
        wall = time.monotonic() - t
        if p.returncode != 0:
            raise RuntimeError("renew under strace exited %d: %s" % (
                p.returncode, p.stderr[-500:]))
        service_ms = sum(int(m.group(1)) for m in
                         (re.search(r" (\d+)ms$", l)
                          for l in w.service.log_lines()) if m)
    finally:
        w.close()
    res = {"wall": wall, "poll_s": 0.0, "polls": 0, "fsync_state_s": 0.0,
           "fsyncs_state": 0, "fsync_token_s": 0.0, "fsyncs_token": 0,
           "sleep_s": 0.0, "sleeps": 0, "startup_s": None,
           "service_s": service_ms / 1000.0, "api": api}
    first = None
    module = pathlib.Path(w.module).name
    for line in out.read_text(errors="replace").splitlines():
        m = STRACE_LINE.match(line)
        if not m:
            continue
        at = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + \
            float(m.group(4))
        first = at if first is None else first
        call, args, dur = m.group(5), m.group(6), float(m.group(8) or 0)
        if call == "openat" and module in args and res["startup_s"] is None:
            res["startup_s"] = at - first
        elif call in ("poll", "ppoll"):
            res["poll_s"] += dur
            res["polls"] += 1
        elif call in ("fsync", "fdatasync"):
            which = "token" if "softtoken" in args else "state"
            res["fsync_%s_s" % which] += dur
            res["fsyncs_%s" % which] += 1
        elif call in ("nanosleep", "clock_nanosleep"):
            res["sleep_s"] += dur
            res["sleeps"] += 1
    report[key] = res
    print("renewal (%s) breakdown: wall %.2f s under strace, waits on the "
          "service %.2f s (%d polls; service's own %.2f s), fsyncs state "
          "%.3f s (%d), token %.3f s (%d), sleeps %.3f s (%d), start-up "
          "%s" % (res["api"], wall, res["poll_s"], res["polls"],
                  res["service_s"], res["fsync_state_s"],
                  res["fsyncs_state"], res["fsync_token_s"],
                  res["fsyncs_token"], res["sleep_s"], res["sleeps"],
                  "%.3f s" % res["startup_s"] if res["startup_s"] is not None
                  else "?"), flush=True)


SERIES_CONTROL = 10   # a renewal on a fresh service after every 10th


def series_part(report, workdir, count):
    """count renewals in a row, as a fleet operator renews one Ekey after
    another: one service, one state directory (journals and run history
    grow), a fresh soft token with one due certificate for each renewal; no
    added latency. Time and peak RSS of each."""
    d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    w = gmtest.World(d, days_left=None)
    rows = []
    try:
        for i in range(count):
            w.token = gmtest.SoftToken(d / ("ekey%d" % i))
            w.token.init(serial="3000A1%010d" % i)
            w.add_cert()
            r = renew_once(w, w.token.dir, None)
            rows.append({"wall": r["wall"], "cpu": r["cpu"], "rss": r["rss"],
                         "calls": sum(r["calls"].values()),
                         "run_delay": r["run_delay"],
                         "service_s": r["service_s"],
                         "state_files": sum(1 for _ in w.state.rglob("*")),
                         "service_bytes": sum(
                             f.stat().st_size for f in w.service.dir.rglob("*")
                             if f.is_file())})
            if i % SERIES_CONTROL == SERIES_CONTROL - 1:
                # the same renewal on a fresh service and state directory,
                # right after: the machine's load at this moment, without
                # anything the series grew
                dc = pathlib.Path(tempfile.mkdtemp(dir=workdir))
                wc = gmtest.World(dc)
                try:
                    rc = renew_once(wc, dc, None)
                finally:
                    wc.close()
                rows[-1]["fresh_wall"] = rc["wall"]
            if os.environ.get("BENCH_SERIES_VERBOSE"):
                print("series %d: %s" % (i + 1, rows[-1]), flush=True)
    finally:
        w.close()
    report["series"] = rows
    print("%d renewals in a row: first %.3f s / %d KiB, last %.3f s / %d KiB"
          % (count, rows[0]["wall"], rows[0]["rss"], rows[-1]["wall"],
             rows[-1]["rss"]), flush=True)


def check_env_part(report, workdir):
    d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    w = gmtest.World(d, start=False)
    trace = d / "trace"
    env = w.env(GMSOFT_TRACE=trace)
    p = subprocess.run([gmtest.need_env("GMRENEW_BIN"), "check-env"],
                       env=env, capture_output=True, text=True)
    calls = count_trace(trace)
    report["check_env"] = {"calls": sum(calls.values()),
                           "by_function": dict(calls), "rc": p.returncode}
    print("check-env: %d calls (exit %d)" % (sum(calls.values()),
                                              p.returncode), flush=True)


def verify_part(report, workdir, n, runs):
    """`gmrenew verify` on a soft token with n certificates of one key."""
    d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    m = Maker(d / "certs")
    root = m.root("vroot", "CN=Bench Root CA,O=SSCCCA,C=CN")
    key = m.key("leaf")
    csr = m.dir / "leaf.csr"
    openssl("req", "-new", "-key", key, "-sm3", "-sigopt", "distid:" + SM2_ID,
            "-utf8", "-subj", "/CN=JSB0000@IST@30/O=SSCCCA/C=CN", "-out", csr)
    token = gmtest.SoftToken(d)
    token.init(serial="3000A10000000002")
    token.import_key(0, "01", "key", key)
    for i in range(n):
        pem = m.dir / ("v%d.pem" % i)
        openssl("x509", "-req", "-in", csr, "-CA", root.pem, "-CAkey",
                root.key, "-sm3", "-sigopt", "distid:" + SM2_ID, "-vfyopt",
                "distid:" + SM2_ID, "-days", "300", "-set_serial",
                str(i + 1), "-out", pem)
        token.import_cert(0, "01", "cert %d" % i, pem)
    bundle(d / "bundle.pem", root)
    cfg = d / "config.ini"
    cfg.write_text("[token]\nmodule = %s\napi = pkcs11\n\n[service]\nchain_bundle = %s\n"
                   "\n[renewal]\nstate_dir = %s\n" % (token.module,
                                                       d / "bundle.pem",
                                                       d / "state"))
    env = token.env(GMRENEW_CONFIG=cfg)
    env.pop("GMRENEW_PIN", None)
    cmd = [gmtest.need_env("GMRENEW_BIN"), "verify"]
    walls, cpus, rss, unloaded = [], [], [], []
    for _ in range(runs):
        r = rusage_run(cmd, env)
        walls.append(r["wall"])
        cpus.append(r["cpu"])
        rss.append(r["rss"])
        if r["run_delay"] is not None:
            unloaded.append(r["wall"] - r["run_delay"])
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    report["verify"] = {"n": n, "wall_s": median(walls), "cpu_s": median(cpus),
                        "rss": median(rss), "runs": runs,
                        "load": os.getloadavg()[0],
                        "unloaded_s": median(unloaded) if unloaded else None,
                        "passed": p.stdout.count("pass chain"),
                        "rc": p.returncode}
    print("verify on %d certificates: %.3f s (%d chains passed)" % (
        n, median(walls), report["verify"]["passed"]), flush=True)


def startup_part(report, workdir):
    """The libraries `list-certs` initialises (LD_DEBUG=libs): libcurl is
    loaded only by commands that use the service."""
    d = pathlib.Path(tempfile.mkdtemp(dir=workdir))
    certs = Certs(d, "sm2", 1)
    tok = Soft(d, certs, 1, True)
    cmd, extra = direct(gmrenew_list(d)(tok.module))
    env = dict(tok.env(), LD_DEBUG="libs", **extra)
    p = subprocess.run([str(c) for c in cmd], env=env, capture_output=True,
                       text=True, errors="replace")
    libs = sorted(set(re.findall(r"calling init: (\S+)", p.stderr)))
    report["startup"] = {"libraries": libs,
                         "libcurl": any("libcurl" in l for l in libs)}
    print("list-certs initialises %d libraries%s" % (
        len(libs), ", libcurl among them" if report["startup"]["libcurl"]
        else ", not libcurl"), flush=True)


# ---- checks (the smoke test) and the report ----

def gm_calls(row):
    return row["tools"]["gmrenew list-certs --json"]["calls"]


def count_failures(report):
    """Every call-count target exceeded, as lines."""
    bad = []
    for row in report.get("list_certs", []):
        if row["keys"] and gm_calls(row) > list_ceiling(row["token"],
                                                        row["n"]):
            bad.append("list-certs on %s, N=%d with key pairs: %d calls, "
                       "more than this version's %d" % (
                           row["token"], row["n"], gm_calls(row),
                           list_ceiling(row["token"], row["n"])))
    for row in report.get("list_certs", []):
        if row["keys"] and "skf" in row and row["skf"]["calls"] > \
                list_ceiling(SKF_TOKEN, row["n"]):
            bad.append("list-certs through SKF, N=%d with key pairs: %d "
                       "calls, more than this version's %d" % (
                           row["n"], row["skf"]["calls"],
                           list_ceiling(SKF_TOKEN, row["n"])))
    for r in report.get("renewal_skf", {}).get("runs", [])[:1]:
        if r["calls_total"] > RENEW_SKF_MEASURED:
            bad.append("renewal through SKF: %d calls, more than this "
                       "version's %d" % (r["calls_total"], RENEW_SKF_MEASURED))
    for r in report.get("renewal", {}).get("runs", [])[:1]:
        if r["calls_total"] > RENEW_TARGET:
            bad.append("renewal: %d PKCS#11 calls, target %d" % (
                r["calls_total"], RENEW_TARGET))
        elif r["calls_total"] > RENEW_P11_MEASURED:
            bad.append("renewal: %d PKCS#11 calls, more than this "
                       "version's %d" % (r["calls_total"],
                                         RENEW_P11_MEASURED))
        if r["requests"] != 4 or r["connections"] != 1:
            bad.append("renewal: %d HTTP requests on %d connections, target "
                       "4 on 1" % (r["requests"], r["connections"]))
    st = report.get("startup")
    if st and st["libcurl"]:
        bad.append("list-certs loads libcurl at start-up")
    ce = report.get("check_env")
    if ce and ce["calls"] > CHECK_ENV_TARGET:
        bad.append("check-env: %d calls, target %d" % (ce["calls"],
                                                        CHECK_ENV_TARGET))
    return bad


def versions():
    def first_line(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    def deb(pkg):
        p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                           capture_output=True, text=True)
        return p.stdout.strip() or "?"
    cpu = "?"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "machine": "%s, %d CPUs, %s %s" % (cpu, os.cpu_count(),
                                           platform.system(),
                                           platform.release()),
        "gmrenew": first_line([gmtest.need_env("GMRENEW_BIN"), "--version"]),
        "openssl": first_line(["openssl", "version"]),
        "softhsm2": deb("softhsm2"), "opensc (pkcs11-tool, pkcs11-spy)":
        deb("opensc"), "gnutls-bin (p11tool)": deb("gnutls-bin"),
        "valgrind": first_line(["valgrind", "--version"]),
        "python3": platform.python_version(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--json-out")
    ap.add_argument("--report")
    ap.add_argument("--ns", default="1,10,100", help="the N of list-certs")
    ap.add_argument("--verify-n", type=int, default=1000)
    ap.add_argument("--only", help="comma-separated parts: list, renewal, "
                    "check-env, verify, series")
    a = ap.parse_args()
    report = {"smoke": a.smoke, "versions": versions(), "runs": a.runs}
    parts = set((a.only or "startup,proofs,list,renewal,check-env,verify,"
                  "series")
                .split(","))
    with tempfile.TemporaryDirectory(prefix="gmrenew-bench-") as work:
        if "startup" in parts:
            startup_part(report, work)
        if "proofs" in parts and not a.smoke:
            proofs_part(report, work)
        if "list" in parts:
            list_certs_part(report, work, [1, 10] if a.smoke else
                            [int(x) for x in a.ns.split(",")], a.runs,
                            a.smoke)
        if "renewal" in parts:
            renewal_part(report, work, a.runs, a.smoke)
            renewal_part(report, work, a.runs, a.smoke, api="skf",
                         key="renewal_skf")
            if not a.smoke:
                renewal_breakdown(report, work)
                renewal_breakdown(report, work, api="skf",
                                  key="renewal_breakdown_skf")
        if "check-env" in parts:
            check_env_part(report, work)
        if "verify" in parts and not a.smoke:
            verify_part(report, work, a.verify_n, max(3, a.runs // 2))
        if "series" in parts:
            series_part(report, work, 3 if a.smoke else a.series)
    # when the measurements ended, for the report's first line
    report["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if a.json_out:
        pathlib.Path(a.json_out).write_text(json.dumps(report, indent=1,
                                                       default=str))
    if a.report:
        import perfreport
        pathlib.Path(a.report).write_text(perfreport.render(report))
    for row in report.get("list_certs", []):
        if row["keys"] and gm_calls(row) > list_target(row["n"]):
            print("target missed (known, docs/performance.md): list-certs "
                  "on %s, N=%d with key pairs: %d calls, target %d" % (
                      row["token"], row["n"], gm_calls(row),
                      list_target(row["n"])), file=sys.stderr)
        if row["keys"] and "skf" in row and \
                row["skf"]["calls"] > list_target(row["n"]):
            print("target missed (known, docs/performance.md): list-certs "
                  "through SKF, N=%d with key pairs: %d calls, target %d" % (
                      row["n"], row["skf"]["calls"], list_target(row["n"])),
                  file=sys.stderr)
    bad = count_failures(report)
    for line in bad:
        print("over target: " + line, file=sys.stderr)
    return 1 if (bad and a.smoke) else 0


if __name__ == "__main__":
    sys.exit(main())
