#!/usr/bin/python3
"""Reference renewal service for gmrenew (test and demonstration fixture).

Implements docs/protocol.md over HTTPS with the standard library; all SM2 and
X.509 cryptography runs the `openssl` command. See README.md in this folder.

Subcommands: init, enroll, serve, revoke, show, fault, faults.
"""

import argparse
import datetime
import email.utils
import http.server
import itertools
import json
import os
import re
import signal
import sqlite3
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import der  # noqa: E402
import faults  # noqa: E402
import answer_faults  # noqa: E402
import hostile_certs  # noqa: E402
import kmc  # noqa: E402
import kmc_faults  # noqa: E402
import pki  # noqa: E402
import service  # noqa: E402
from service import ApiError  # noqa: E402

MAX_REQUEST_BODY = 65536
DRAIN_LIMIT = 1024 * 1024
IDLE_TIMEOUT = 60
ROOT_NAME = "CN=SSCC Test Root CA,O=SSCCCA,C=CN"
ISSUING_NAME = "CN=SSCC Test Issuing CA,O=SSCCCA,C=CN"
OTHER_NAME = "CN=SSCC Test Other CA,O=SSCCCA,C=CN"
TLS_CA_NAME = "CN=gmrenew Test TLS CA,O=gmrenew test,C=CN"
CA_YEARS = datetime.timedelta(days=20 * 365)

ROUTES = [
    ("GET", re.compile(r"^/v1/challenge$"), "challenge"),
    ("POST", re.compile(r"^/v1/lookup$"), "lookup"),
    ("POST", re.compile(r"^/v1/renewals$"), "start"),
    ("GET", re.compile(r"^/v1/renewals/([^/]+)$"), "status"),
    ("POST", re.compile(r"^/v1/renewals/([^/]+)/csr$"), "csr"),
    ("POST", re.compile(r"^/v1/renewals/([^/]+)/confirm$"), "confirm"),
    ("POST", re.compile(r"^/v1/renewals/([^/]+)/cancel$"), "cancel"),
]


# ================================================================ HTTP

class Dropped(Exception):
    """The request ends by closing the connection without a response."""


class Handler(http.server.BaseHTTPRequestHandler):
    """One HTTPS connection: HTTP/1.1, keep-alive, JSON responses."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write: a separate small write for the
    # body would wait on the client's delayed ACK (about 40 ms a request).
    wbufsize = 1 << 16
    timeout = IDLE_TIMEOUT
    server_version = "gmrenew-refservice/1"
    sys_version = ""
    connection_ids = itertools.count(1)

    def setup(self):
        """Number the connection for the request log."""
        super().setup()
        self.conn_id = next(Handler.connection_ids)
        self.skew = 0

    def log_message(self, fmt, *args):
        """Silence the default stderr log (see requests.log)."""

    def date_time_string(self, timestamp=None):
        """Date header value, shifted by the skew fault."""
        return email.utils.formatdate(time.time() + self.skew, usegmt=True)

    def send_error(self, code, message=None, explain=None):
        """Protocol-level failures found by http.server (bad request line,
        header too large, ...): answer in the protocol's JSON error form."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # always send a status line and headers
        err = ApiError("bad_request", message, status=code)
        obj = err.body()
        obj["next_challenge"] = self.server.service.next_challenge()
        try:
            self.send_json(code, obj, {}, [])
        except OSError:
            pass
        self.server.log_request_line(getattr(self, "conn_id", 0), getattr(self, "command", None) or "-",
                                     getattr(self, "path", None) or "-", code, 0)

    def do_GET(self):
        """GET requests."""
        self.dispatch("GET")

    def do_POST(self):
        """POST requests."""
        self.dispatch("POST")

    def do_PUT(self):
        """Other methods: 405."""
        self.dispatch("PUT")

    do_DELETE = do_PATCH = do_PUT

    # -- request flow

    def dispatch(self, method):
        """Route, apply faults, run the operation, answer and log."""
        started = time.monotonic()
        self.skew = 0
        status = "drop"
        try:
            kind, args = self.route(method)
            entries = self.server.faults.take(kind) if kind else []
            status = self.handle_request(method, kind, args, entries)
        except Dropped:
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True
            status = "aborted"
        self.server.log_request_line(self.conn_id, method, self.path, status,
                                     int((time.monotonic() - started) * 1000))

    def route(self, method):
        """(kind, path arguments) of the request; kind None for no route."""
        path = self.path
        for route_method, pattern, kind in ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                return kind, match.groups()
        return None, ()

    def handle_request(self, method, kind, args, entries):
        """Produce and send the response; return the HTTP status sent."""
        for entry in entries:
            if entry.get("type") == "delay":
                time.sleep(int(entry.get("ms", 1000)) / 1000.0)
            if entry.get("type") == "skew":
                self.skew = int(entry.get("seconds", 3600))
        try:
            body = self.read_body(method)
            self.pre_faults(entries)
            try:
                status, obj = self.operate(method, kind, args, body, entries)
            except (pki.PKIError, der.DERError, sqlite3.Error, KeyError, TypeError) as exc:
                sys.stderr.write("refservice: internal error: %r\n" % exc)
                raise ApiError("internal") from exc
            obj = self.cert_faults(kind, entries, obj)
            obj = answer_faults.apply(self.server.service, kind, entries, obj)
            obj = kmc_faults.apply(self.server.service, kind, entries, obj)
            headers = {}
        except ApiError as err:
            status, obj, headers = err.status, err.body(), {}
            if "retry_after" in err.extra:
                headers["Retry-After"] = str(err.extra["retry_after"])
            if status in (411, 413):
                self.close_connection = True
        if any(e.get("type") == "drop" and e.get("when", "after") == "after" for e in entries):
            raise Dropped()
        obj["next_challenge"] = self.server.service.next_challenge()
        return self.send_json(status, obj, headers, entries)

    def read_body(self, method):
        """The request body (bytes); bad_request for bad or missing lengths."""
        length = self.headers.get("Content-Length")
        if method != "POST":
            return b""
        if length is None or not length.isdigit():
            raise ApiError("bad_request", "Content-Length required", status=411)
        if int(length) > MAX_REQUEST_BODY:
            if int(length) <= DRAIN_LIMIT:
                self.rfile.read(int(length))  # let the client finish sending, then answer
            self.close_connection = True
            raise ApiError("bad_request", "request body larger than %d bytes" % MAX_REQUEST_BODY, status=413)
        return self.rfile.read(int(length))

    def pre_faults(self, entries):
        """Faults acting before the operation: drop (when=before), http_error."""
        for entry in entries:
            kind = entry.get("type")
            if kind == "drop" and entry.get("when", "after") == "before":
                raise Dropped()
            if kind == "http_error":
                status = int(entry.get("status", 503))
                code = entry.get("code") or {503: "busy", 500: "internal"}.get(status, "internal")
                extra = {}
                if "retry_after" in entry or status == 503:
                    extra["retry_after"] = int(entry.get("retry_after", 1))
                raise ApiError(code, "fault switch", status=status, **extra)

    def operate(self, method, kind, args, body, entries):
        """Run the protocol operation for a routed request."""
        svc = self.server.service
        if kind is None:
            known = any(p.match(self.path) for _, p, _ in ROUTES)
            raise ApiError("bad_request", "no such endpoint", status=405 if known else 404)
        if kind == "challenge":
            return svc.challenge()
        if kind == "lookup":
            return svc.lookup(body)
        if kind == "start":
            return svc.start(self.headers, self.path, body)
        if kind == "status":
            return svc.status(args[0])
        if kind == "csr":
            fail = any(e.get("type") == "issue_error" for e in entries)
            return svc.csr(args[0], self.headers, self.path, body, fail_issuance=fail)
        if kind == "confirm":
            return svc.confirm(args[0], self.headers, self.path, body)
        return svc.cancel(args[0], self.headers, self.path, body)

    def cert_faults(self, kind, entries, obj):
        """Replace the certificate or chain of a csr/status answer (fault switches)."""
        if kind not in ("csr", "status") or not obj.get("certificate"):
            return obj
        for entry in entries:
            if entry.get("type") in faults.CERT_TYPES:
                obj = self.server.bad_certs.apply(entry["type"], obj)
            elif entry.get("type") in faults.HOSTILE_CERT_TYPES:
                obj = hostile_certs.apply(self.server.bad_certs, entry, obj)
        return obj

    def send_json(self, status, obj, headers, entries):
        """Send the response (or its malformed / oversized variants)."""
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        oversized = None
        for entry in entries:
            if entry.get("type") == "malformed":
                body = b'{"update_code": "K7QF-3MZP, "state": [unterminated'
            if entry.get("type") == "oversized":
                oversized = int(entry.get("bytes", 10 * 1024 * 1024))
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Gmrenew-Next-Challenge", obj["next_challenge"])
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(oversized if oversized is not None else len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if oversized is None:
            self.wfile.write(body)
        else:
            self.write_padding(body, oversized)
        # No flush here: http.server flushes once the request is done, after
        # requests.log has its line, so a client never sees an answer whose
        # line is not yet in the log.
        return status

    def write_padding(self, body, size):
        """Write size bytes: the body followed by spaces."""
        self.close_connection = True
        chunk = b" " * 65536
        self.wfile.write(body[:size])
        left = size - min(len(body), size)
        while left > 0:
            piece = chunk[:min(left, len(chunk))]
            self.wfile.write(piece)
            left -= len(piece)


class BadCerts:
    """Builds the deliberately wrong certificates of the cert fault switches."""

    def __init__(self, directory, svc):
        self.svc = svc
        self.rogue = service.load_issuer(directory, "rogue")
        self.other = pki.Cert.from_file(os.path.join(directory, "other-ca.pem"))
        self.spare_spki = pki.spki_of_private_key(os.path.join(directory, "spare.key"))

    def apply(self, kind, obj):
        """Return obj with its certificate (or chain) replaced."""
        good = pki.Cert(service.unb64(obj["certificate"], "certificate"))
        if kind == "broken_chain":
            return dict(obj, chain=[service.b64(self.other.der), service.b64(self.svc.root.der)])
        now = self.svc.now()
        issuer, subject, spki = self.svc.issuing, good.subject_der, good.spki
        not_before, not_after = good.not_before, good.not_after
        if kind == "wrong_key":
            spki = self.spare_spki
        elif kind == "wrong_subject":
            subject = der.encode_name(good.subject.replace("CN=", "CN=X", 1))
        elif kind == "wrong_issuer":
            issuer = self.rogue
        elif kind == "short_validity":
            not_after = now + datetime.timedelta(days=30)
        elif kind == "expired":
            not_before, not_after = now - datetime.timedelta(days=400), now - datetime.timedelta(days=1)
        bad = pki.Cert(pki.issue(issuer, subject, spki, not_before, not_after))
        return dict(obj, certificate=service.b64(bad.der), certificate_sha256=bad.sha256,
                    not_after=service.iso(bad.not_after))


class Server(http.server.ThreadingHTTPServer):
    """Threaded HTTPS server holding the service, faults and the request log."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, directory, port):
        super().__init__(("127.0.0.1", port), Handler)
        self.faults = faults.FaultFile(directory)
        self.service = service.RenewalService(directory, self.faults.read)
        self.bad_certs = BadCerts(directory, self.service)
        self.log_path = os.path.join(directory, "requests.log")
        self.log_lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(os.path.join(directory, "tls-server.pem"),
                                os.path.join(directory, "tls-server.key"))
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def log_request_line(self, conn_id, method, path, status, ms):
        """Append 'TIME conn=N METHOD PATH STATUS MSms' to requests.log."""
        line = "%s conn=%d %s %s %s %dms\n" % (service.iso(pki.utcnow()), conn_id, method,
                                                path[:200], status, ms)
        with self.log_lock, open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def handle_error(self, request, client_address):
        """TLS handshake failures and resets are routine: one line on stderr."""
        exc = sys.exc_info()[1]
        sys.stderr.write("refservice: connection error: %s\n" % exc)


# ================================================================ commands

def cmd_init(args):
    """Create the CAs, the TLS server certificate and the registry."""
    d = args.dir
    os.makedirs(d, exist_ok=True)
    if os.path.exists(os.path.join(d, "registry.db")) and not args.force:
        sys.exit("refservice: %s is already initialised (use --force)" % d)
    now = pki.utcnow()
    root = make_ca(d, "root", "chain-ca.pem", ROOT_NAME, None, now)
    make_ca(d, "issuing", "issuing-ca.pem", ISSUING_NAME, root, now, pathlen=0)
    make_ca(d, "other", "other-ca.pem", OTHER_NAME, root, now, pathlen=0)
    make_ca(d, "rogue", "rogue-ca.pem", ISSUING_NAME, None, now)
    pki.generate_key(pki.KEY_SM2, os.path.join(d, "spare.key"))
    tls_ca = make_ca(d, "tls-ca", "tls-ca.pem", TLS_CA_NAME, None, now, kind=pki.KEY_P256)
    make_tls_server(d, tls_ca, now)
    for name in ("requests.log", "faults.json"):
        if os.path.exists(os.path.join(d, name)):
            os.unlink(os.path.join(d, name))
    service.open_db(d).close()
    print("initialised %s" % d)


def make_ca(d, stem, cert_file, name, parent, now, pathlen=None, kind=pki.KEY_SM2):
    """Key D/<stem>.key and CA certificate D/<cert_file>; return its Issuer."""
    key_path = os.path.join(d, stem + ".key")
    pki.generate_key(kind, key_path)
    spki = pki.spki_of_private_key(key_path)
    extra = {} if parent else {"self_key": (key_path, kind)}
    data = pki.issue(parent, der.encode_name(name), spki, now - datetime.timedelta(days=1), now + CA_YEARS,
                     ca=True, pathlen=pathlen, **extra)
    write_pem(os.path.join(d, cert_file), data)
    return pki.Issuer(key_path, pki.Cert(data))


def make_tls_server(d, tls_ca, now):
    """P-256 TLS server key and certificate for 127.0.0.1 / localhost."""
    key_path = os.path.join(d, "tls-server.key")
    pki.generate_key(pki.KEY_P256, key_path)
    data = pki.issue(tls_ca, der.encode_name("CN=localhost,O=gmrenew test,C=CN"),
                     pki.spki_of_private_key(key_path), now - datetime.timedelta(days=1),
                     now + datetime.timedelta(days=825),
                     key_usage=(pki.KU_DIGITAL_SIGNATURE,), dns_names=("localhost",),
                     ip_addresses=("127.0.0.1",), server_auth=True)
    write_pem(os.path.join(d, "tls-server.pem"), data)


def write_pem(path, data):
    """Write a DER certificate as PEM."""
    with open(path, "w", encoding="ascii") as handle:
        handle.write(der.der_to_pem(data, "CERTIFICATE"))


def parse_time(text):
    """Aware datetime from ISO 8601 text (date or date-time; UTC if no zone)."""
    when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def cmd_enroll(args):
    """Issue a certificate for an externally made key and register it."""
    spki = pki.spki_of_public_key(args.pubkey)
    if pki.key_type(spki) is None:
        sys.exit("refservice: the key must be SM2 or EC P-256")
    now = pki.utcnow()
    if args.days_left is not None:
        not_after = now + datetime.timedelta(days=args.days_left)
        not_before = not_after - service.NEW_VALIDITY
    else:
        if not (args.not_before and args.not_after):
            sys.exit("refservice: give --days-left or both --not-before and --not-after")
        not_before, not_after = parse_time(args.not_before), parse_time(args.not_after)
    if args.double and pki.key_type(spki) != pki.KEY_SM2:
        sys.exit("refservice: double certificates need an SM2 signing key")
    issuer = service.load_issuer(args.dir, "issuing")
    cert = pki.Cert(pki.issue(issuer, der.encode_name(args.subject), spki, not_before, not_after))
    db = service.open_db(args.dir)
    labels = (args.gateway, args.organization, args.system)
    service.register(db, cert, *labels)
    if args.double:
        kmc.add_double_subject(args.dir, cert.subject)
        enroll_encryption_part(args, db, issuer, cert, labels)
    db.close()
    write_pem(args.out, cert.der)
    print(cert.sha256)


def enroll_encryption_part(args, db, issuer, cert, labels):
    """enroll --double: the KMC's encryption part and the files asked for."""
    enc, envelope = service.add_encryption_part(db, issuer, cert, labels)
    if args.enc_out:
        write_pem(args.enc_out, enc.der)
    if args.envelope_out:
        with open(args.envelope_out, "w", encoding="utf-8") as handle:
            json.dump(envelope, handle, indent=1)
    if args.enc_key_out:
        key_pem = db.execute("SELECT enc_key FROM pairs WHERE enc_sha256=?", (enc.sha256,)).fetchone()[0]
        fd = os.open(args.enc_key_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem)


def find_cert_sha(args):
    """sha256 from --sha256 or --cert."""
    if args.cert:
        return pki.Cert.from_file(args.cert).sha256
    if args.sha256:
        return args.sha256.lower()
    sys.exit("refservice: give --cert or --sha256")


def cmd_revoke(args):
    """Mark a registered certificate revoked."""
    sha = find_cert_sha(args)
    db = service.open_db(args.dir)
    changed = db.execute("UPDATE certs SET revoked=1 WHERE sha256=?", (sha,)).rowcount
    db.commit()
    if not changed:
        sys.exit("refservice: no such certificate %s" % sha)
    print("revoked %s" % sha)


def cmd_show(args):
    """Print the registry and the orders as JSON."""
    db = service.open_db(args.dir)
    certs = []
    for row in db.execute("SELECT * FROM certs ORDER BY enrolled"):
        cert = pki.Cert(row["der"])
        certs.append({"sha256": row["sha256"], "serial": row["serial"], "subject": cert.subject,
                      "not_before": service.iso(cert.not_before), "not_after": service.iso(cert.not_after),
                      "gateway": row["gateway"], "organization": row["organization"],
                      "system": row["system"], "revoked": bool(row["revoked"]),
                      "superseded_by": row["superseded_by"]})
    orders = [{"update_code": r["code"], "old_sha256": r["old_sha256"], "state": r["state"],
               "created_at": service.iso(r["created"]), "expires_at": service.iso(r["expires"]),
               "cert_sha256": r["cert_sha256"]}
              for r in db.execute("SELECT * FROM orders ORDER BY created")]
    pairs = [{"signing_sha256": r["sign_sha256"], "encryption_sha256": r["enc_sha256"]}
             for r in db.execute("SELECT sign_sha256, enc_sha256 FROM pairs")]
    print(json.dumps({"certificates": certs, "orders": orders, "pairs": pairs}, ensure_ascii=False, indent=1))


def cmd_fault(args):
    """Append one fault entry (or set a switch) in D/faults.json."""
    ff = faults.FaultFile(args.dir)
    entry = {"type": args.type}
    for key in ("count", "status", "retry_after", "ms", "seconds", "bytes", "when", "code", "pubkey", "part"):
        value = getattr(args, key)
        if value is not None:
            entry[key] = value
    try:
        ff.add(args.kind, entry)
    except ValueError as exc:
        sys.exit("refservice: %s" % exc)


def cmd_faults(args):
    """faults clear | show | rekey on|off | clock SECONDS | protocol 1.0|1.1."""
    ff = faults.FaultFile(args.dir)
    if args.action == "clear":
        ff.clear()
    elif args.action == "show":
        print(json.dumps(ff.read(), ensure_ascii=False, indent=1))
    elif args.action == "rekey":
        ff.set("rekey_allowed", args.value == "on")
    elif args.action == "clock":
        ff.set("clock_offset", int(args.value))
    elif args.action == "protocol":
        if args.value not in ("1.0", "1.1"):
            sys.exit("refservice: faults protocol takes 1.0 or 1.1")
        ff.set("protocol", args.value)


def cmd_serve(args):
    """Serve until SIGTERM or SIGINT."""
    server = Server(args.dir, args.port)
    port = server.server_address[1]
    with open(os.path.join(args.dir, "port"), "w", encoding="ascii") as handle:
        handle.write("%d\n" % port)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening on https://127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def build_parser():
    """The command-line parser."""
    parser = argparse.ArgumentParser(prog="refservice.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create CAs, TLS certificate and registry")
    p.add_argument("--dir", required=True)
    p.add_argument("--force", action="store_true", help="re-initialise an existing directory")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("enroll", help="issue and register a certificate for a public key")
    p.add_argument("--dir", required=True)
    p.add_argument("--pubkey", required=True, help="public (or private) key file, PEM or DER")
    p.add_argument("--subject", required=True, help='RFC 2253 order, e.g. "CN=...,OU=...,O=SSCCCA,C=CN"')
    p.add_argument("--gateway", required=True)
    p.add_argument("--organization", required=True)
    p.add_argument("--system", required=True)
    p.add_argument("--days-left", type=int, help="notAfter = now + N days (negative: expired)")
    p.add_argument("--not-before")
    p.add_argument("--not-after")
    p.add_argument("--out", required=True)
    p.add_argument("--double", action="store_true",
                   help="double certificates: the KMC also issues an encryption certificate and "
                        "the subject's renewals carry one (D/config.json)")
    p.add_argument("--enc-out", help="--double: write the encryption certificate (PEM)")
    p.add_argument("--envelope-out", help="--double: write the enveloped key to --pubkey (JSON)")
    p.add_argument("--enc-key-out", help="--double: write the escrowed encryption private key (PEM)")
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("serve", help="run the HTTPS service")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("revoke", help="revoke a registered certificate")
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--sha256")
    p.set_defaults(func=cmd_revoke)

    p = sub.add_parser("show", help="print registry and orders")
    p.add_argument("--dir", required=True)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("fault", help="add a fault switch")
    p.add_argument("--dir", required=True)
    p.add_argument("--kind", required=True, choices=faults.KINDS)
    p.add_argument("--type", required=True, choices=faults.TYPES)
    p.add_argument("--count", type=int)
    p.add_argument("--status", type=int, help="http_error: HTTP status (default 503)")
    p.add_argument("--code", help="http_error: error code (default busy for 503, else internal)")
    p.add_argument("--retry-after", type=int, help="http_error: Retry-After seconds")
    p.add_argument("--ms", type=int, help="delay: milliseconds")
    p.add_argument("--seconds", type=int, help="skew: Date header offset")
    p.add_argument("--bytes", type=int, help="oversized: body size")
    p.add_argument("--when", choices=("before", "after"), help="drop: before or after processing")
    p.add_argument("--pubkey", help="cert_for_key, other_key, envelope_other_key, enc_cert_other_key: "
                                    "the PEM public key used instead of the right one")
    p.add_argument("--part", choices=kmc_faults.PARTS, help="envelope_corrupt: which part is broken")
    p.set_defaults(func=cmd_fault)

    p = sub.add_parser("faults", help="clear | show | rekey on|off | clock SECONDS | protocol 1.0|1.1")
    p.add_argument("action", choices=("clear", "show", "rekey", "clock", "protocol"))
    p.add_argument("value", nargs="?")
    p.add_argument("--dir", required=True)
    p.set_defaults(func=cmd_faults)
    return parser


def main(argv=None):
    """Entry point."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except pki.PKIError as exc:
        sys.exit("refservice: %s" % exc)


if __name__ == "__main__":
    main()
