"""contrib/ansible: the gmrenew.fleet.renew module run by Debian's
ansible-playbook against localhost, with the soft Ekey and the reference
service: check mode changes nothing and says a renewal would happen, the
real run renews (changed), a second run reports nothing changed, and a
failure fails the task with gmrenew's reason."""
import json
import os
import pathlib
import subprocess

import gmtest

SRC = pathlib.Path(os.environ.get("GMRENEW_SOURCE_DIR", "."))

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Renew the Ekey's certificate when it is due
      gmrenew.fleet.renew:
        binary: "{{ gmrenew_bin }}"
        pin_file: "{{ pin_file }}"
      environment: "{{ gmrenew_env }}"
      register: renewal
      ignore_errors: true
    - name: Keep the result for the test
      ansible.builtin.copy:
        content: "{{ renewal | to_json }}"
        dest: "{{ result_file }}"
      check_mode: false
      changed_when: false
"""


def play(world, tmp_path, name, check=False):
    book = tmp_path / "renew.yml"
    book.write_text(PLAYBOOK)
    result = tmp_path / ("%s.json" % name)
    extra = {
        "gmrenew_bin": os.environ["GMRENEW_BIN"],
        "pin_file": str(world.pin_file),
        "result_file": str(result),
        "gmrenew_env": {k: v for k, v in world.env().items()
                        if k.startswith(("GMRENEW_CONFIG", "GMSOFT_DIR",
                                         "ASAN_", "UBSAN_", "LSAN_"))},
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    env = dict(os.environ, HOME=str(tmp_path),
               ANSIBLE_COLLECTIONS_PATH=str(SRC / "contrib" / "ansible"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    cmd = [gmtest.need_tool("ansible-playbook"), "-i", "localhost,",
           "-e", json.dumps(extra), str(book)]
    if check:
        cmd.insert(1, "--check")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert gmtest.PIN not in p.stdout + p.stderr
    return json.loads(result.read_text()), p.stdout


def test_check_mode_then_renewal_then_nothing(world, tmp_path):
    before = world.certs()
    r, out = play(world, tmp_path, "check", check=True)
    assert r["changed"] is True and not r.get("failed")
    assert r["action"] == "dry_run"
    assert r["outcome"]["schema_version"] == 1
    assert [c["sha256"] for c in world.certs()] == [before[0]["sha256"]]
    assert world.service.orders() == []

    r, out = play(world, tmp_path, "renew")
    assert r["changed"] is True and not r.get("failed"), r
    assert r["action"] == "renewed"
    (after,) = world.certs()
    assert r["outcome"]["certificate"]["sha256"] == after["sha256"]
    assert after["sha256"] != before[0]["sha256"]
    assert "changed=1" in out

    r, out = play(world, tmp_path, "again")
    assert r["changed"] is False and not r.get("failed"), r
    assert r["action"] == "not_due" and r["reason"] == "not_due"
    assert "changed=0" in out and "failed=0" in out


def test_failure_fails_with_the_reason(world, tmp_path):
    world.token.tool_run("remove", "--slot", 0)
    r, out = play(world, tmp_path, "fail")
    assert r["failed"] is True and r["changed"] is False
    assert r["reason"] == "no_token"
    assert r["msg"].startswith("gmrenew: no_token: no token is inserted")
    assert r["outcome"]["error"]["retryable"] is True
