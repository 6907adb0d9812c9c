"""docs/performance.md from the measurements of bench/perf.py. Every number
in the report comes from the run; the explanations of misses that need
more than the numbers are in bench/performance-notes.md, quoted at the
end."""
import datetime
import pathlib
import statistics

import perf

GM = "gmrenew list-certs --json"
P11 = "pkcs11-tool --list-objects --type cert"
GT = "p11tool --list-all-certs"


def ok(flag):
    if isinstance(flag, str):
        return flag
    return "met" if flag else "**missed**"


def list_verdict(token, n, calls):
    """met, missed, or missed where the API allows no fewer (the
    measurements in the section on it)."""
    if calls <= perf.list_target(n):
        return True
    if calls <= perf.list_floor(token, n):
        return ("missed, cannot be met: %d is the least the API allows "
                "(measured: section \"Why list-certs makes more than 8 + "
                "2N calls\")" % perf.list_floor(token, n))
    return False


def wall_verdict(wall, floor, ideal):
    """The wall time at 10 ms per call against 1.1x calls x latency: met,
    or a miss that no client could avoid here, when a program that only
    sleeps as long as the calls and spends gmrenew's CPU between them
    (ideal, timed in the same run) is itself above 1.1x and gmrenew is
    within 10% of it."""
    if wall <= 1.1 * floor:
        return True
    if ideal and ideal > 1.1 * floor and wall <= 1.1 * ideal:
        return ("missed, cannot be met on this machine: the calls' sleeps "
                "with gmrenew's own CPU between them, and nothing else, "
                "take %.2f s (%.2fx); gmrenew %.2fx of that" % (
                    ideal, ideal / floor, wall / ideal))
    return False


def ms(s):
    return "%.1f ms" % (s * 1000.0)


def by_function(calls):
    return ", ".join("%s %d" % (k, v) for k, v in
                     sorted(calls.items(), key=lambda kv: -kv[1]))


def rows_of(r, **match):
    return [row for row in r["list_certs"]
            if all(row[k] == v for k, v in match.items())]


def targets(r):
    """(target, measured, met) lines."""
    out = []
    for row in rows_of(r, keys=True):
        calls = row["tools"][GM]["calls"]
        out.append(("list-certs, %s, N=%d with key pairs: at most %d token "
                    "calls" % (row["token"], row["n"], perf.list_target(row["n"])),
                    "%d" % calls, list_verdict(row["token"], row["n"],
                                               calls)))
        if "skf" in row:
            calls = row["skf"]["calls"]
            out.append(("list-certs, %s, N=%d with key pairs: at most %d "
                        "token calls" % (perf.SKF_TOKEN, row["n"],
                                         perf.list_target(row["n"])),
                        "%d" % calls, list_verdict(perf.SKF_TOKEN, row["n"],
                                                   calls)))
    for row in rows_of(r, token=perf.Soft.name, keys=True):
        w = row.get("wall_10ms")
        if w:
            out.append(("list-certs, N=%d, %d ms per call: wall within 10%% "
                        "of calls x latency" % (row["n"], perf.LIST_LATENCY),
                        "%.2f s for %.2f s (%.2fx)" % (
                            w["median_s"], w["floor_s"],
                            w["median_s"] / w["floor_s"]),
                        wall_verdict(w["median_s"], w["floor_s"],
                                     w.get("sleeps_cpu_s"))))
            if w.get("unloaded_s"):
                out.append(("list-certs, N=%d, %d ms per call: wall less the "
                            "time it waited for a CPU (the machine's load) "
                            "within 10%% of calls x latency" % (
                                row["n"], perf.LIST_LATENCY),
                            "%.2f s for %.2f s (%.2fx)" % (
                                w["unloaded_s"], w["floor_s"],
                                w["unloaded_s"] / w["floor_s"]),
                            wall_verdict(w["unloaded_s"], w["floor_s"],
                                         w.get("sleeps_cpu_s"))))
    ren = r["renewal"]["runs"]
    first = ren[0]
    out.append(("renewal: at most %d PKCS#11 calls" % perf.RENEW_TARGET,
                "%d" % first["calls_total"],
                first["calls_total"] <= perf.RENEW_TARGET))
    if "renewal_skf" in r:
        calls = r["renewal_skf"]["runs"][0]["calls_total"]
        most = int(perf.RENEW_SKF_UNAVOIDABLE * 1.1)
        out.append(("renewal: at most %d SKF calls (its floor of %d plus "
                    "10%%)" % (most, perf.RENEW_SKF_UNAVOIDABLE),
                    "%d" % calls, calls <= most))
    for key in ("renewal", "renewal_skf"):
        if key not in r:
            continue
        ren = r[key]["runs"]
        walls = [x["wall"] for x in ren]
        floor = ren[0]["floor_s"]
        service = statistics.median(x["service_s"] for x in ren)
        api = r[key].get("api", "pkcs11")
        out.append(("renewal (%s) at USB-key latency (%s): wall at most 1.1x "
                    "the token's floor" % (api, perf.latency_spec(perf.USB)),
                    "median %.2f s, floor %.2f s (%.2fx)" % (
                        statistics.median(walls), floor,
                        statistics.median(walls) / floor),
                    statistics.median(walls) <= 1.1 * floor))
        out.append(("renewal (%s) at USB-key latency: wall at most 1.1x the "
                    "token's floor plus the service's own time (its log)"
                    % api,
                    "median %.2f s, %.2f s + %.2f s (%.2fx)" % (
                        statistics.median(walls), floor, service,
                        statistics.median(walls) / (floor + service)),
                    statistics.median(walls) <= 1.1 * (floor + service)))
        unl = [x["wall"] - x["run_delay"] for x in ren
               if x.get("run_delay") is not None]
        if unl:
            out.append(("renewal (%s) at USB-key latency: wall less the time "
                        "gmrenew waited for a CPU (the machine's load) at "
                        "most 1.1x the token's floor plus the service's own "
                        "time" % api,
                        "median %.2f s, %.2f s + %.2f s (%.2fx)" % (
                            statistics.median(unl), floor, service,
                            statistics.median(unl) / (floor + service)),
                        statistics.median(unl) <= 1.1 * (floor + service)))
    out.append(("renewal: 4 HTTP requests on one TLS connection",
                "%d on %d" % (first["requests"], first["connections"]),
                first["requests"] == 4 and first["connections"] == 1))
    for n, limit in sorted(perf.CPU_TARGET.items()):
        for row in rows_of(r, n=n, keys=False):
            c = row["cpu"]
            ratio = c[GM]["cpu"] / c[P11]["cpu"]
            out.append(("CPU of list-certs --json, %s, N=%d: at most %.1fx "
                        "pkcs11-tool's" % (row["token"], n, limit),
                        "%.2fx (%s / %s; instructions %.2fx)" % (
                            ratio, ms(c[GM]["cpu"]), ms(c[P11]["cpu"]),
                            c[GM]["instructions"] / c[P11]["instructions"]),
                        ratio <= limit))
    for row in rows_of(r, keys=False):
        c = row["cpu"]
        extra = c[GM]["rss"] - c[P11]["rss"]
        out.append(("peak RSS, %s, N=%d: at most pkcs11-tool's + 2 MiB"
                    % (row["token"], row["n"]),
                    "%d KiB vs %d KiB (%+d KiB)" % (c[GM]["rss"],
                                                    c[P11]["rss"], extra),
                    extra <= perf.RSS_MARGIN_KIB))
    v = r.get("verify")
    if v:
        out.append(("verify on %d certificates: under 1 s" % v["n"],
                    "%.2f s wall, %.2f s CPU (%d chains passed, exit %d; "
                    "load %.1f)" % (
                        v["wall_s"], v["cpu_s"], v["passed"], v["rc"],
                        v.get("load", float("nan"))),
                    v["wall_s"] < perf.VERIFY_TARGET_S))
        if v.get("unloaded_s"):
            out.append(("verify on %d certificates: wall less the time it "
                        "waited for a CPU (the machine's load) under 1 s"
                        % v["n"], "%.2f s" % v["unloaded_s"],
                        v["unloaded_s"] < perf.VERIFY_TARGET_S))
    st = r.get("startup")
    if st:
        out.append(("list-certs does not load libcurl (start-up)",
                    "%d libraries initialised%s" % (
                        len(st["libraries"]),
                        ", libcurl among them" if st["libcurl"] else ""),
                    not st["libcurl"]))
    ce = r["check_env"]
    out.append(("check-env: at most %d token calls" % perf.CHECK_ENV_TARGET,
                "%d" % ce["calls"], ce["calls"] <= perf.CHECK_ENV_TARGET))
    s = r.get("series")
    if s and len(s) >= 20:
        a, b = s[:10], s[-10:]

        def ratio(k):
            return statistics.median(x[k] for x in b) / \
                statistics.median(x[k] for x in a)
        tw, tc, tr = ratio("wall"), ratio("cpu"), ratio("rss")
        out.append(("%d renewals in a row: gmrenew's time (CPU) and peak RSS "
                    "flat (+-10%%)" % len(s),
                    "last 10 / first 10: CPU %.2fx, RSS %.2fx (wall %.2fx)"
                    % (tc, tr, tw), abs(tc - 1) <= perf.FLAT and
                    abs(tr - 1) <= perf.FLAT))
        out.append(("%d renewals in a row: wall time flat (+-10%%)" % len(s),
                    "last 10 / first 10: %.2fx" % tw,
                    abs(tw - 1) <= perf.FLAT))
        pairs = [x["wall"] / x["fresh_wall"] for x in s if "fresh_wall" in x]
        if len(pairs) >= 10:
            k = max(2, len(pairs) // 5)
            a_r = statistics.median(pairs[:k])
            b_r = statistics.median(pairs[-k:])
            out.append(("%d renewals in a row: wall against a renewal on a "
                        "fresh service and state directory right after it "
                        "(the same machine load) flat (+-10%%)" % len(s),
                        "last fifth / first fifth: %.2fx (%.2fx / %.2fx)" % (
                            b_r / a_r, b_r, a_r),
                        abs(b_r / a_r - 1) <= perf.FLAT))
        if all(x.get("run_delay") is not None for x in s):
            def unl(xs):
                return statistics.median(x["wall"] - x["run_delay"]
                                         for x in xs)
            tu = unl(b) / unl(a)
            out.append(("%d renewals in a row: wall less the time gmrenew "
                        "waited for a CPU (the machine's load) flat (+-10%%)"
                        % len(s), "last 10 / first 10: %.2fx (%s / %s)" % (
                            tu, ms(unl(b)), ms(unl(a))),
                        abs(tu - 1) <= perf.FLAT))
    return out


def section_targets(r):
    lines = ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    for t, m, flag in targets(r):
        lines.append("| %s | %s | %s |" % (t, m, ok(flag)))
    return lines


def section_calls(r):
    lines = ["## Token calls of list-certs", "",
             "Counted by function: the soft ePass3000GM's `GMSOFT_TRACE`, "
             "OpenSC's `pkcs11-spy` around SoftHSM2 (`C_GetFunctionList` and "
             "`C_GetInterface` are answered by the library, not the token, "
             "and are not counted). Key pairs on SoftHSM2 are P-256 "
             "(SoftHSM2 has no SM2); its certificates without keys are SM2.",
             "",
             "| token | N | key pairs | gmrenew | target | pkcs11-tool | "
             "p11tool |", "|---|---|---|---|---|---|---|"]
    for row in r["list_certs"]:
        t = row["tools"]
        lines.append("| %s | %d | %s | %d | %s | %d | %d |" % (
            row["token"], row["n"], "yes" if row["keys"] else "no",
            t[GM]["calls"], perf.list_target(row["n"]) if row["keys"] else "-",
            t[P11]["calls"], t[GT]["calls"]))
        if "skf" in row:
            lines.append("| %s | %d | %s | %d | %s | - | - |" % (
                perf.SKF_TOKEN, row["n"], "yes" if row["keys"] else "no",
                row["skf"]["calls"],
                perf.list_target(row["n"]) if row["keys"] else "-"))
    lines += ["", "This version's ceilings in the smoke test (the least of "
              "the forms): " + "; ".join(
                  "%s %s" % (tok, " or ".join("%d + %dN" % f for f in forms))
                  for tok, forms in perf.LIST_MEASURED.items()) +
              "; through SKF 2 more when the container names pass the "
              "%d-byte guess (%d bytes each on the soft token)." % (
                  perf.SKF_LIST_GUESS, perf.SOFT_NAME_BYTES),
              "", "gmrenew's calls by function:", ""]
    for row in r["list_certs"]:
        if row["n"] in (1, 10):
            lines.append("- %s, N=%d, %s: %s" % (
                row["token"], row["n"],
                "key pairs" if row["keys"] else "certificates only",
                by_function(row["tools"][GM]["by_function"])))
            if "skf" in row:
                lines.append("- %s, N=%d, %s: %s" % (
                    perf.SKF_TOKEN, row["n"],
                    "key pairs" if row["keys"] else "certificates only",
                    by_function(row["skf"]["by_function"])))
    walls = [row for row in r["list_certs"] if row.get("wall_10ms")]
    if walls:
        lines += ["", "Wall time on the soft ePass3000GM at %d ms per call "
                  "(median of %d runs):" % (perf.LIST_LATENCY,
                                            max(3, r["runs"] // 3)), "",
                  "| N | key pairs | calls | calls x latency | the same "
                  "sleeps, timed | gmrenew's CPU | the sleeps with that CPU "
                  "between them, timed | wall | ratio to calls x latency | "
                  "ratio to the sleeps | ratio to the sleeps with the CPU | "
                  "wall less the wait for a CPU | wall without added "
                  "latency |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in walls:
            w = row["wall_10ms"]
            sl = w.get("sleeps_s")
            un = w.get("unloaded_s")
            sc = w.get("sleeps_cpu_s")
            lines.append("| %d | %s | %d | %.2f s | %s | %s | %s | %.2f s | "
                         "%.2fx | %s | %s | %s | %s |" % (
                             row["n"], "yes" if row["keys"] else "no",
                             w["calls"], w["floor_s"],
                             "%.2f s" % sl if sl else "-",
                             ms(w["cpu_s"]) if "cpu_s" in w else "-",
                             "%.3f s" % sc if sc else "-", w["median_s"],
                             w["median_s"] / w["floor_s"],
                             "%.2fx" % (w["median_s"] / sl) if sl else "-",
                             "%.2fx" % (w["median_s"] / sc) if sc else "-",
                             "%.2f s (%.2fx)" % (un, un / w["floor_s"])
                             if un else "-",
                             "%.2f s" % w["base_s"] if "base_s" in w
                             else "-"))
    return lines


def section_proofs(r):
    """The measurements behind every call above 8 + 2N."""
    pr = r.get("proofs")
    if not pr:
        return []
    pg, so = pr["paging"], pr["soft_objects"]
    ds, dh = pr["detect_soft"], pr["detect_hsm"]
    first = pg["first_search"]
    rows = {row["token"]: row for row in rows_of(r, keys=True, n=10)}
    tools = rows.get(perf.Soft.name, {}).get("tools", {})

    def closes(name):
        return tools.get(name, {}).get("by_function", {}).get(
            "C_CloseSession", 0)
    lines = ["## Why list-certs makes more than 8 + 2N calls", "",
             "8 + 2N is `C_Initialize`, `C_GetSlotList`, `C_GetTokenInfo`, "
             "`C_OpenSession`, one search (`C_FindObjectsInit`, "
             "`C_FindObjects`, `C_FindObjectsFinal`), `C_Finalize`, and one "
             "`C_GetAttributeValue` for each certificate and each public "
             "key. What the APIs add, each measured in this run:", "",
             "- **the search's empty answer (1 call, every PKCS#11 token).** "
             "Only an answer of no handles ends a search: a module may "
             "answer fewer handles than asked for while more are left. The "
             "soft ePass3000GM paging at %d handles (`GMSOFT_FIND_MAX`, as "
             "the standard allows), under `pkcs11-spy`, N = %d with key "
             "pairs: the answers were %s (asked for, given); gmrenew listed "
             "%d of %d certificates. A search that stopped at the first "
             "answer shorter than asked for would have read %d of the %d "
             "objects." % (
                 pg["page"], pg["n"], ", ".join("%d/%d" % tuple(f) for f in first),
                 pg["listed"], pg["n"], first[0][1] if first else 0,
                 sum(f[1] for f in first)),
             "- **`C_CloseSession` (1 call, every PKCS#11 token).** The "
             "session is closed before `C_Finalize`: PKCS#11 gives closing "
             "sessions to `C_CloseSession` / `C_CloseAllSessions`, not to "
             "`C_Finalize`, and FEITIAN's driver keeps state past "
             "`C_Finalize` (its USB thread and semaphore, "
             "`shared/reference/feitian-driver.md`). pkcs11-tool and "
             "p11tool close theirs too (N = 10: %d and %d "
             "`C_CloseSession`)." % (closes(P11), closes(GT)),
             "- **FEITIAN's container objects (min(N, 4) calls, soft "
             "ePass3000GM).** Each key pair has a container object (class "
             "0x8043544E); the search for every object gave %d handles for "
             "%d certificates with their key pairs (a certificate, a public "
             "key, a container each; the private key needs the PIN). A "
             "template matches equal values only and cannot leave a class "
             "out, so a container is either read (1 call) or named by a "
             "search of its class (4 calls): N below 6 pairs, 4 from then "
             "on." % (so["first_answer"], so["n"]),
             "- **SoftHSM2's second slot (1 call).** SoftHSM2's "
             "`C_GetSlotList` with tokens present gave %s slots (its spare, "
             "uninitialised token is one); the one-Ekey rule reads each "
             "token's information to know which are initialised." % (
                 dh["slots"],),
             "- **the profile detection (2 calls, SoftHSM2).** Neither the "
             "token's strings nor the library's name a known profile, so "
             "the library is asked (`C_GetInfo`) and then the mechanisms "
             "(`C_GetMechanismList`). The same listing with `profile = "
             "pkcs11-ec` named: %d calls instead of %d. On the soft "
             "ePass3000GM the token's strings decide (no `C_GetInfo`): %d "
             "calls with the profile found, %d with it named." % (
                 sum(dh["named"].values()), sum(dh["auto"].values()),
                 sum(ds["auto"].values()), sum(ds["named"].values())),
             "- **SKF: 3 calls per container.** GM/T 0016 reads a "
             "container's certificates and keys only through its handle "
             "(`SKF_ExportCertificate` and `SKF_ExportPublicKey` take an "
             "`HCONTAINER`; `SKF_OpenContainer`, `SKF_CloseContainer`), and "
             "each certificate is its own call: the encryption certificate "
             "is asked for (one call, absent or not) so that the halves of "
             "double certificates show. The container's type is not asked "
             "when its signing key is an SM2 blob. The name list is read "
             "with a %d-byte guess (2 calls more past it)." %
             perf.SKF_LIST_GUESS]
    return lines


def section_cpu(r):
    lines = ["## CPU and memory of list-certs", "",
             "Medians of %d interleaved runs of each program (gmrenew, "
             "pkcs11-tool, p11tool, in turn), no added latency. CPU is user + "
             "system time from wait4(2); instructions are valgrind's "
             "(callgrind) count of one run; peak RSS is ru_maxrss."
             % r["runs"], "",
             "| token | N | key pairs | gmrenew CPU | pkcs11-tool CPU | "
             "p11tool CPU | ratio | instructions gmrenew / pkcs11-tool | "
             "peak RSS gmrenew / pkcs11-tool / p11tool |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in r["list_certs"]:
        c = row.get("cpu")
        if not c:
            continue
        lines.append("| %s | %d | %s | %s | %s | %s | %.2fx | %.1fM / %.1fM "
                     "(%.2fx) | %d / %d / %d KiB |" % (
                         row["token"], row["n"], "yes" if row["keys"] else "no",
                         ms(c[GM]["cpu"]), ms(c[P11]["cpu"]), ms(c[GT]["cpu"]),
                         c[GM]["cpu"] / c[P11]["cpu"],
                         c[GM]["instructions"] / 1e6,
                         c[P11]["instructions"] / 1e6,
                         c[GM]["instructions"] / c[P11]["instructions"],
                         c[GM]["rss"], c[P11]["rss"], c[GT]["rss"]))
    return lines


def section_renewal(r):
    lines = []
    for key in ("renewal", "renewal_skf"):
        if key in r:
            lines += renewal_lines(r, key) + [""]
    return lines[:-1]


def renewal_lines(r, key):
    ren = r[key]["runs"]
    api = r[key].get("api", "pkcs11")
    first = ren[0]
    walls = [x["wall"] for x in ren]
    lat = perf.USB
    unavoidable = perf.RENEW_UNAVOIDABLE if api == "pkcs11" else \
        perf.RENEW_SKF_UNAVOIDABLE
    lines = ["## A renewal through %s" % ("PKCS#11" if api == "pkcs11" else
                                          "SKF"), "",
             "On the soft ePass3000GM with `GMSOFT_LATENCY=%s` (a USB key: "
             "%d ms per call, %d ms per key generation, %d ms per signature) "
             "and the reference service over TLS on 127.0.0.1; %d runs, each "
             "from a fresh token." % (perf.latency_spec(lat), lat["call"],
                                      lat["keygen"], lat["sign"], len(ren)),
             "",
             "- calls: %d (%s)" % (first["calls_total"],
                                   by_function(first["calls"])),
             "- the floor: %d %s calls x %d ms + %d key generation(s) "
             "x %d ms + %d signature(s) x %d ms = %.2f s" % (
                 unavoidable, "unavoidable", lat["call"],
                 perf.n_of(first["calls"], perf.KEYGEN_CALLS), lat["keygen"],
                 perf.n_of(first["calls"], perf.SIGN_CALLS), lat["sign"],
                 first["floor_s"]),
             "- the service's own time (the sum of its log's per-request "
             "times): median %.2f s" % statistics.median(
                 x["service_s"] for x in ren),
             "- the floor's sleeps (calls, key generation, signatures) timed "
             "on this machine right after each run: median %s" % (
                 "%.2f s" % statistics.median(x["floor_sleeps_s"] for x in ren
                                              if "floor_sleeps_s" in x)
                 if any("floor_sleeps_s" in x for x in ren) else "-"),
             "- the time gmrenew waited for a CPU while it could run (the "
             "machine's load; /proc/PID/schedstat): median %s" % (
                 "%.2f s" % statistics.median(x["run_delay"] for x in ren
                                              if x.get("run_delay") is not None)
                 if any(x.get("run_delay") is not None for x in ren)
                 else "-"),
             "- the token's share at today's count: %d calls x %d ms + key "
             "generation + signatures = %.2f s" % (
                 first["calls_total"], lat["call"], first["token_s"]),
             "- wall: median %.2f s (min %.2f s, max %.2f s): %.2fx the floor"
             % (statistics.median(walls), min(walls), max(walls),
                statistics.median(walls) / first["floor_s"]),
             "- the same renewal without added latency: %s" % (
                 "median %.2f s over %d runs (the service, the soft token's "
                 "own work and gmrenew)" % (
                     statistics.median(x["wall_no_latency"] for x in ren
                                       if "wall_no_latency" in x),
                     len([x for x in ren if "wall_no_latency" in x]))
                 if any("wall_no_latency" in x for x in ren) else
                 "not measured in this run"),
             "- CPU of gmrenew: median %s; peak RSS %d KiB" % (
                 ms(statistics.median(x["cpu"] for x in ren)),
                 statistics.median(x["rss"] for x in ren)),
             "- HTTP: %d requests on %d TLS connection(s)" % (
                 first["requests"], first["connections"])]
    return lines


def section_breakdown(r):
    lines = []
    for key in ("renewal_breakdown", "renewal_breakdown_skf"):
        b = r.get(key)
        if not b:
            continue
        if not lines:
            lines = ["## Where a renewal's time goes", "",
                     "One renewal without added latency under `strace -f -tt "
                     "-T -y` (its own wall time is longer than without "
                     "strace):", "",
                     "| API | wall | waiting on the service (polls) | the "
                     "service's own time | fsyncs of gmrenew's state | fsyncs "
                     "of the soft token's store | sleeps | start-up (until "
                     "the module is opened) |", "|---|---|---|---|---|---|---|"
                     "---|"]
        lines.append("| %s | %.2f s | %.2f s (%d) | %.2f s | %.3f s (%d) | "
                     "%.3f s (%d) | %.3f s (%d) | %s |" % (
                         b["api"], b["wall"], b["poll_s"], b["polls"],
                         b["service_s"], b["fsync_state_s"],
                         b["fsyncs_state"], b["fsync_token_s"],
                         b["fsyncs_token"], b["sleep_s"], b["sleeps"],
                         "%.3f s" % b["startup_s"]
                         if b["startup_s"] is not None else "?"))
    return lines


def section_other(r):
    lines = ["## check-env, verify, renewals in a row", ""]
    ce = r["check_env"]
    lines.append("- check-env: %d token calls (%s); exit %d (the test "
                 "machine has no USB Ekey and no udev rule installed)"
                 % (ce["calls"], by_function(ce["by_function"]), ce["rc"]))
    v = r.get("verify")
    if v:
        lines.append("- verify on %d certificates (one SM2 root, one key): "
                     "median %.2f s wall, %s CPU, peak RSS %d KiB over %d runs"
                     % (v["n"], v["wall_s"], ms(v["cpu_s"]), v["rss"],
                        v["runs"]))
    s = r.get("series")
    if s:
        def med(xs, k):
            return statistics.median(x[k] for x in xs)
        chunks = [s[i:i + max(1, len(s) // 5)]
                  for i in range(0, len(s), max(1, len(s) // 5))]
        lines.append("- %d renewals in a row (one service and state "
                     "directory, one fresh soft token each, no added "
                     "latency), median per fifth:" % len(s))
        full = all("run_delay" in x and x["run_delay"] is not None
                   for x in s)
        ctl = any("fresh_wall" in x for x in s)
        lines += ["", "| renewals | wall | CPU | peak RSS | calls |%s" % (
            " waited for a CPU | wall less that wait | the service's own "
            "time | files in the state directory | the service's files |"
            if full else "") + (" wall / a fresh service's right after |"
                                if ctl else ""),
            "|---|---|---|---|---|%s" % (
                "---|---|---|---|---|" if full else "") + (
                    "---|" if ctl else "")]
        at = 0
        for c in chunks:
            line = "| %d-%d | %s | %s | %d KiB | %d |" % (
                at + 1, at + len(c), ms(med(c, "wall")), ms(med(c, "cpu")),
                med(c, "rss"), med(c, "calls"))
            if full:
                line += " %s | %s | %s | %d | %d KiB |" % (
                    ms(med(c, "run_delay")),
                    ms(statistics.median(x["wall"] - x["run_delay"]
                                         for x in c)),
                    ms(med(c, "service_s")), c[-1]["state_files"],
                    c[-1]["service_bytes"] // 1024)
            if ctl:
                q = [x["wall"] / x["fresh_wall"] for x in c
                     if "fresh_wall" in x]
                line += " %s |" % ("%.2fx" % statistics.median(q) if q
                                   else "-")
            lines.append(line)
            at += len(c)
    return lines


def render(r):
    v = r["versions"]
    lines = ["# Performance", "",
             "Written by `bench/run` from its run of %s; do not edit: run "
             "it again (`bench/run --smoke`, ctest `bench_smoke`, checks "
             "the call counts only)." % r.get(
                 "finished", datetime.datetime.utcnow().strftime(
                     "%Y-%m-%d %H:%M UTC")), "",
             "## Machine and versions", ""]
    for k, val in v.items():
        lines.append("- %s: %s" % (k, val))
    lines.append("")
    for sec in (section_targets, section_calls, section_proofs, section_cpu,
                section_renewal,
                section_breakdown, section_other):
        lines += sec(r) + [""]
    notes = pathlib.Path(__file__).resolve().parent / "performance-notes.md"
    if notes.exists():
        lines += notes.read_text().rstrip().splitlines() + [""]
    return "\n".join(lines)
