"""The interruption matrix of a renewal through SKF (GM/T 0016): the same
points and checks as test_interruption.py (every token call of a recorded
renewal failed with SAR_FAIL, killed after, the Ekey removed; every HTTP
request failed, lost, killed in flight), the renewal made through the soft
ePass3000GM's SKF side and checked through its PKCS#11 side with
pkcs11-tool and openssl."""
from test_interruption import run_matrix


def test_interruption_matrix_skf(tmp_path):
    run_matrix(tmp_path, "skf")
