"""Times `gmrenew verify` on a soft ePass3000GM holding N certificates (all
issued by one SM2 root for one key pair). Usage, with the variables of
bench/verify.sh: python3 bench/verify.py N [N ...]"""
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent /
                       "tests" / "integration"))
import gmtest                     # noqa: E402
from certmaker import Maker, bundle, openssl, SM2_ID  # noqa: E402

SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"


def fill(root_dir, n):
    m = Maker(root_dir / "certs")
    root = m.root("bench-root", "CN=Bench Root CA,O=SSCCCA,C=CN")
    key = m.key("leaf")
    csr = m.dir / "leaf.csr"
    openssl("req", "-new", "-key", key, "-sm3", "-sigopt", "distid:" + SM2_ID,
            "-utf8", "-subj", "/CN=JSB0000@IST@30/O=SSCCCA/C=CN", "-out", csr)
    token = gmtest.SoftToken(root_dir)
    token.init(serial="3000A10000000002")
    token.import_key(0, "01", "key", key)
    for i in range(n):
        pem = m.dir / ("leaf%d.pem" % i)
        openssl("x509", "-req", "-in", csr, "-CA", root.pem, "-CAkey",
                root.key, "-sm3", "-sigopt", "distid:" + SM2_ID, "-vfyopt",
                "distid:" + SM2_ID, "-days", "300", "-set_serial", str(i + 1),
                "-out", pem)
        token.import_cert(0, "01", "cert %d" % i, pem)
    config = root_dir / "config.ini"
    bundle(root_dir / "bundle.pem", root)
    config.write_text("[token]\nmodule = %s\napi = pkcs11\n\n[service]\nchain_bundle = %s\n"
                      "\n[renewal]\nstate_dir = %s\n" % (
                          token.module, root_dir / "bundle.pem",
                          root_dir / "state"))
    return token.env(GMRENEW_CONFIG=config)


def main():
    for n in [int(a) for a in sys.argv[1:]]:
        with tempfile.TemporaryDirectory() as d:
            env = fill(pathlib.Path(d), n)
            env.pop("GMRENEW_PIN", None)
            t = time.monotonic()
            p = subprocess.run([gmtest.need_env("GMRENEW_BIN"), "verify"],
                               env=env, capture_output=True, text=True)
            took = time.monotonic() - t
            passed = p.stdout.count("pass chain")
            print("%5d certificates: verify %.2f s, exit %d, %d chains "
                  "passed" % (n, took, p.returncode, passed), flush=True)


if __name__ == "__main__":
    main()
