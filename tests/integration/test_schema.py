"""The outcome contract: every command's real --json output, success and
failure, is valid against its schema in docs/schema/ (checked by Debian's
python3-jsonschema); the four environment failures have distinct reasons;
--not-due-exit changes the exit code and the JSON's exit_code alike."""
import json
import os
import pathlib

import jsonschema
import pytest

import gmtest

SCHEMAS = pathlib.Path(os.environ.get("GMRENEW_SOURCE_DIR", ".")) / "docs" / "schema"


def schema(name):
    return json.loads((SCHEMAS / name).read_text())


def validate(doc, name):
    store = {}
    for f in SCHEMAS.glob("*.json"):
        s = json.loads(f.read_text())
        store[s["$id"]] = s
    s = schema(name)
    resolver = jsonschema.RefResolver(base_uri=s["$id"], referrer=s,
                                      store=store)
    jsonschema.Draft202012Validator(s, resolver=resolver).validate(doc)
    return doc


def run_json(world, *args, check, env=None):
    p = gmtest.gmrenew_run("--json", *args, env=env or world.env(),
                           check=check)
    return json.loads(p.stdout)


def test_schemas_are_valid_schemas():
    names = sorted(f.name for f in SCHEMAS.glob("*.json"))
    assert names == ["check-env.json", "common.json", "error.json",
                     "list-certs.json", "renew-wait.json", "renew.json",
                     "verify.json"]
    for n in names:
        jsonschema.Draft202012Validator.check_schema(schema(n))


def test_schema_rejects_what_it_should():
    bad = {"schema_version": 1, "ok": True, "action": "renewed",
           "token_serial": "1", "certificate": None}
    with pytest.raises(jsonschema.ValidationError):
        validate(bad, "renew.json")        # renewed without update code
    with pytest.raises(jsonschema.ValidationError):
        validate({"schema_version": 1, "ok": False, "error": {
            "exit_code": 5, "message": "x", "fix": None,
            "reason": "no token", "retryable": False}}, "error.json")


def test_read_only_commands(world):
    validate(run_json(world, "list-certs", check=0), "list-certs.json")
    validate(run_json(world, "list-certs", "--online", check=0),
             "list-certs.json")
    validate(run_json(world, "verify", check=0), "verify.json")
    validate(run_json(world, "check-env", check=0), "check-env.json")


def test_renew_outcomes(world):
    doc = validate(run_json(world, "renew", "--dry-run", "--pin-file",
                            world.pin_file, check=0), "renew.json")
    assert doc["action"] == "dry_run"
    before = world.certs()[0]
    doc = validate(run_json(world, "renew", "--yes", "--pin-file",
                            world.pin_file, check=0), "renew.json")
    assert doc["action"] == "renewed" and doc["ok"] is True
    assert doc["token_serial"] == gmtest.SERIAL
    (after,) = world.certs()
    assert doc["certificate"]["sha256"] == after["sha256"] != before["sha256"]
    assert doc["certificate"]["not_after"] == after["not_after"]
    doc = validate(run_json(world, "renew", "--yes", "--pin-file",
                            world.pin_file, check=3), "renew.json")
    assert doc["action"] == "not_due" and doc["error"]["reason"] == "not_due"
    assert doc["error"]["retryable"] is False


def test_failed_then_resumed(world):
    world.service.fault("csr", "http_error", status=500)
    doc = validate(run_json(world, "renew", "--yes", "--pin-file",
                            world.pin_file, check=7), "renew.json")
    assert doc["action"] == "failed" and doc["error"]["retryable"] is True
    assert doc["certificate"]["sha256"] == world.certs()[0]["sha256"]
    world.service.faults_clear()
    doc = validate(run_json(world, "renew-with-code", doc["update_code"],
                            "--pin-file", world.pin_file, check=0),
                   "renew.json")
    assert doc["action"] == "resumed"


def test_not_due_exit(tmp_path):
    w = gmtest.World(tmp_path, days_left=400)
    try:
        for code in (0, 10):
            doc = validate(run_json(w, "--not-due-exit", code, "renew",
                                    "--yes", "--pin-file", w.pin_file,
                                    check=code), "renew.json")
            assert doc["action"] == "not_due"
            assert doc["error"]["exit_code"] == code
        p = gmtest.gmrenew_run("renew", "--yes", "--pin-file", w.pin_file,
                               env=w.env(), check=3)
        assert "due for renewal" in p.stderr
    finally:
        w.close()


def reason_of(world, *args, env=None, check=5):
    doc = validate(run_json(world, *args, check=check, env=env), "error.json")
    return doc["error"]["reason"], doc["error"]["retryable"]


def test_distinct_environment_reasons(world, tmp_path):
    seen = {}
    seen["driver"] = reason_of(world, "--module", tmp_path / "no-such.so",
                               "list-certs")
    world.token.tool_run("init", "--slot", 1, "--label", "second",
                         "--serial", "2000000000000002")
    seen["several"] = reason_of(world, "list-certs")
    world.token.tool_run("empty", "--slot", 1)
    # the Ekey pulled out when the renewal generates its key
    trace = tmp_path / "trace"
    world.gmrenew("renew", "--dry-run", "--pin-file", world.pin_file,
                  check=0, env=world.env(GMSOFT_TRACE=trace))
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0,
                  env=world.env(GMSOFT_TRACE=tmp_path / "full"))
    index = next(int(l.split()[0]) for l in
                 (tmp_path / "full").read_text().splitlines()
                 if " C_GenerateKeyPair " in l)
    world.token.init()
    world.add_cert(days_left=30)
    doc = validate(run_json(world, "renew", "--yes", "--pin-file",
                            world.pin_file, check=5,
                            env=world.env(GMSOFT_REMOVE_AT=index)),
                   "renew.json")
    seen["removed"] = (doc["error"]["reason"], doc["error"]["retryable"])
    world.token.tool_run("remove", "--slot", 0)
    seen["none"] = reason_of(world, "list-certs")
    assert seen == {"driver": ("driver_missing", False),
                    "several": ("several_tokens", False),
                    "removed": ("token_removed", True),
                    "none": ("no_token", True)}
