"""The interruption matrix of a double-certificate renewal (签名证书 +
加密证书) through SKF: the points and checks of test_interruption.py over
every SKF call of the recorded renewal, the import of the enveloped
encryption key and of the encryption certificate included, and every
HTTP request. At each point the token must hold a usable signing
certificate with its key (pkcs11-tool, openssl) and an encryption
certificate whose key decrypts what openssl encrypted to it (the token's
SKF functions, called from outside gmrenew); recovery must end with one
container holding both new pairs."""
from test_interruption import run_matrix


def test_interruption_matrix_double(tmp_path):
    run_matrix(tmp_path, "skf", double=True)
