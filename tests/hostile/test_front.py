"""The hostile front itself: what it logs belongs to the case in progress.
A client of an earlier case whose connection ends late (its handshake
failing after the case's reset(), on a loaded machine) must not show up in
the next case's log, where a check like "no TLS handshake was refused"
would see it."""
import socket
import time


def refused_after(front, connect_before_reset):
    """Sends a byte that is no TLS ClientHello on a connection opened
    before or after reset(); the front's log once the handshake failed."""
    if connect_before_reset:
        s = socket.create_connection(("127.0.0.1", front.port))
        time.sleep(1)           # accepted while the earlier case runs
        front.reset()
    else:
        front.reset()
        s = socket.create_connection(("127.0.0.1", front.port))
    s.sendall(b"\x00" * 64)
    s.close()
    deadline = time.time() + 10
    while time.time() < deadline and not any(
            line.startswith("tls refused") for line in front.log):
        time.sleep(0.05)
    return list(front.log)


def test_connection_of_this_case_is_logged(suite):
    log = refused_after(suite.front, False)
    assert any(line.startswith("tls refused") for line in log), log


def test_late_connection_of_an_earlier_case_is_not_logged(suite):
    log = refused_after(suite.front, True)
    assert log == [], log
