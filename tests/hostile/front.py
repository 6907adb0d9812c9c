"""A hostile front for the reference renewal service.

It listens on 127.0.0.1 over TLS and forwards each request to the honest
reference service (tools/refservice), unless the rule set for the request's
kind (lookup, challenge, start, status, csr, confirm) says otherwise: then
the rule answers instead, from the honest answer or without it. Rules act
on the transport too: the TLS settings of each connection, silence before
or after the handshake, endless bodies generated on the fly, a slow drip,
redirects. It runs as threads inside the test process, so a test sets its
rules directly (`front.rules = {...}`, `front.tls = ...`).
"""
import http.client
import json
import re
import socket
import socketserver
import ssl
import threading
import time

ROUTES = [
    ("GET", re.compile(r"^/v1/challenge$"), "challenge"),
    ("POST", re.compile(r"^/v1/lookup$"), "lookup"),
    ("POST", re.compile(r"^/v1/renewals$"), "start"),
    ("GET", re.compile(r"^/v1/renewals/[^/]+$"), "status"),
    ("POST", re.compile(r"^/v1/renewals/[^/]+/csr$"), "csr"),
    ("POST", re.compile(r"^/v1/renewals/[^/]+/confirm$"), "confirm"),
    ("POST", re.compile(r"^/v1/renewals/[^/]+/cancel$"), "cancel"),
]
PASSED_UP = ("Content-Type", "Accept", "Gmrenew-Challenge", "Gmrenew-Signature")
PASSED_DOWN = ("Content-Type", "Gmrenew-Next-Challenge", "Retry-After", "Date")
MB = 1024 * 1024


def kind_of(method, path):
    for m, pattern, kind in ROUTES:
        if m == method and pattern.match(path):
            return kind
    return None


class Closed(Exception):
    """The connection is over (the client left, or a rule closed it)."""


class Answer:
    """An HTTP answer: status, headers (list of pairs) and body bytes."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, list(headers), body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def with_json(self, obj):
        return self.with_body(json.dumps(obj, ensure_ascii=False).encode("utf-8"))

    def with_body(self, body):
        return Answer(self.status, self.headers, body)


class Request:
    """What a rule sees: the request and a way to get the honest answer."""

    def __init__(self, conn, method, path, headers, body):
        self.conn, self.method, self.path = conn, method, path
        self.headers, self.body = headers, body
        self.kind = kind_of(method, path)

    def honest(self):
        """The reference service's answer to this very request."""
        return self.conn.forward(self)

    # -- ways of answering a rule may use ---------------------------------

    def send(self, answer, close=False):
        self.conn.send_answer(answer, close)

    def send_head(self, status, headers):
        lines = ["HTTP/1.1 %d X" % status] + ["%s: %s" % h for h in headers]
        self.conn.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def endless(self, how, size=200 * MB):
        """200 MB of JSON-ish text made on the fly: with a Content-Length
        ('length'), until the connection closes ('close') or chunked."""
        head = [("Content-Type", "application/json")]
        if how == "length":
            head.append(("Content-Length", str(size)))
        elif how == "chunked":
            head.append(("Transfer-Encoding", "chunked"))
        else:
            head.append(("Connection", "close"))
        self.send_head(200, head)
        piece = b'{"pad": "' + b"x" * (MB - 12) + b'",\n'
        sent = 0
        while sent < size:
            data = piece[:size - sent]
            if how == "chunked":
                data = b"%x\r\n" % len(data) + data + b"\r\n"
            self.conn.write(data)
            sent += len(piece)
        if how == "chunked":
            self.conn.write(b"0\r\n\r\n")
        raise Closed()

    def drip(self, every_s=0.5):
        """A valid-looking answer, one byte at a time, without end."""
        self.send_head(200, [("Content-Type", "application/json"),
                             ("Content-Length", "100000")])
        deadline = time.time() + 120
        while time.time() < deadline:
            self.conn.write(b" ")
            time.sleep(every_s)
        raise Closed()

    def silence(self):
        """Never answer; wait for the client to give up."""
        self.conn.wait_for_close()
        raise Closed()


class Connection(socketserver.BaseRequestHandler):
    """One client connection: TLS as the front's settings say, then HTTP/1.1
    requests with keep-alive."""

    def handle(self):
        front = self.server.front
        # the case the connection was accepted in (Server.process_request):
        # what a late connection of an earlier case notes is not this one's
        self.client_address, self.generation = self.client_address
        self.sock = self.request
        self.sock.settimeout(30)
        self.upstream = None
        try:
            if front.before_tls == "silence":
                self.wait_for_close()
                return
            try:
                self.sock = front.tls_context().wrap_socket(self.sock, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                front.note("tls refused: %s" % exc, self.generation)
                return
            front.note("tls %s %s" % (self.sock.version(), self.sock.cipher()[0]),
                       self.generation)
            self.rfile = self.sock.makefile("rb")
            while self.one_request(front):
                pass
        except (Closed, OSError, ssl.SSLError, http.client.HTTPException):
            pass
        finally:
            if self.upstream:
                self.upstream.close()
            try:
                self.sock.close()
            except OSError:
                pass

    def one_request(self, front):
        line = self.rfile.readline(65537)
        if not line:
            return False
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers = {}
        while True:
            h = self.rfile.readline(65537).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            name, _, value = h.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.rfile.read(int(headers.get("content-length", "0")))
        req = Request(self, method, path, headers, body)
        front.note("%s %s" % (method, path), self.generation)
        rule = front.take_rule(req.kind)
        answer = rule(req) if rule else req.honest()
        if answer is not None:
            self.send_answer(answer, False)
        return True

    def forward(self, req):
        if self.upstream is None:
            ctx = ssl.create_default_context(cafile=self.server.front.upstream_ca)
            self.upstream = http.client.HTTPSConnection(
                "127.0.0.1", self.server.front.upstream_port, context=ctx, timeout=60)
        hdrs = {}
        for name in PASSED_UP:
            if name.lower() in req.headers:
                hdrs[name] = req.headers[name.lower()]
        self.upstream.request(req.method, req.path, body=req.body or None, headers=hdrs)
        r = self.upstream.getresponse()
        body = r.read()
        return Answer(r.status, [(n, r.getheader(n)) for n in PASSED_DOWN
                                 if r.getheader(n) is not None], body)

    def send_answer(self, answer, close):
        headers = [(n, v) for n, v in answer.headers if n.lower() != "content-length"]
        headers.append(("Content-Length", str(len(answer.body))))
        if close:
            headers.append(("Connection", "close"))
        lines = ["HTTP/1.1 %d X" % answer.status] + ["%s: %s" % h for h in headers]
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + answer.body)
        if close:
            raise Closed()

    def write(self, data):
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise Closed() from exc

    def wait_for_close(self):
        self.sock.settimeout(1)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if not self.sock.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def process_request(self, request, client_address):
        # stamped in the accepting thread, before the handler's thread runs
        super().process_request(request, (client_address,
                                          self.front.generation))


class Front:
    """The hostile front: start(), then set rules, tls and before_tls."""

    def __init__(self, upstream_port, upstream_ca, cert, key):
        self.upstream_port, self.upstream_ca = upstream_port, upstream_ca
        self.cert, self.key = cert, key
        self.lock = threading.Lock()
        self.reset()
        self.server = Server(("127.0.0.1", 0), Connection)
        self.server.front = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def reset(self):
        """Honest again: no rules, the service's own TLS settings."""
        with self.lock:
            self.generation = getattr(self, "generation", 0) + 1
            self.rules = {}         # kind -> [callable(req) -> Answer|None]
            self.tls = None         # callable(SSLContext) adjusting it
            self.tls_files = None   # (cert, key) to serve instead
            self.before_tls = None  # "silence": accept, never handshake
            self.log = []

    def on(self, kind, rule, count=None):
        """rule answers the next count requests of kind (all, without count)."""
        with self.lock:
            self.rules.setdefault(kind, []).append([rule, count])

    def take_rule(self, kind):
        with self.lock:
            for entry in self.rules.get(kind, []):
                rule, count = entry
                if count is None:
                    return rule
                if count > 0:
                    entry[1] -= 1
                    return rule
        return None

    def tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cert, key = self.tls_files or (self.cert, self.key)
        if self.tls:
            self.tls(ctx)
        ctx.load_cert_chain(cert, key)
        return ctx

    def note(self, text, generation):
        """Logs for the case in progress; a connection accepted before the
        last reset() (a client of an earlier case, its handshake failing
        late on a loaded machine) is not logged."""
        with self.lock:
            if generation == self.generation:
                self.log.append(text)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
