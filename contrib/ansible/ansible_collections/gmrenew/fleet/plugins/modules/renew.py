#!/usr/bin/python3
# Copyright: gmrenew developers; Apache License 2.0
"""Ansible module: run gmrenew renew on the host."""

DOCUMENTATION = r'''
module: renew
short_description: Renew the certificate on the host's Ekey with gmrenew
description:
  - Runs C(gmrenew --json renew --yes) and reports C(changed) only when a
    certificate was renewed (action C(renewed) or C(resumed)).
  - Nothing due (action C(not_due)) is success without change.
  - In check mode runs C(gmrenew renew --dry-run); C(changed) says whether a
    renewal would happen.
  - Fails with gmrenew's typed reason otherwise (C(offline_only), C(failed)).
options:
  pin_file:
    description: File whose first line is the Ekey's PIN (mode 0600). The PIN
      never goes on a command line or into the module's result.
    type: path
    required: true
  config:
    description: gmrenew configuration file (default gmrenew's own lookup).
    type: path
  token:
    description: RFC 7512 URI of the token, when several are inserted.
    type: str
  cert:
    description: Certificate to renew (index, serial or SHA-256).
    type: str
  binary:
    description: Path of the gmrenew program.
    type: path
    default: gmrenew
  timeout:
    description: Seconds before gmrenew is stopped.
    type: int
    default: 600
'''

RETURN = r'''
outcome:
  description: gmrenew's JSON document (docs/schema/renew.json).
  type: dict
  returned: always
action:
  description: renewed, resumed, not_due, offline_only, failed or dry_run.
  type: str
  returned: always
exit_code:
  description: gmrenew's exit code (docs/exit-codes.md).
  type: int
  returned: when gmrenew ran
reason:
  description: the typed reason of a failure or of not_due; null otherwise.
  type: str
  returned: always
'''

import json
import subprocess

from ansible.module_utils.basic import AnsibleModule

CHANGED = ("renewed", "resumed")


def command(p, check_mode):
    cmd = [p["binary"], "--json"]
    if p["config"]:
        cmd += ["--config", p["config"]]
    if p["token"]:
        cmd += ["--token", p["token"]]
    cmd += ["renew", "--pin-file", p["pin_file"]]
    cmd += ["--dry-run"] if check_mode else ["--yes"]
    if p["cert"]:
        cmd += ["--cert", p["cert"]]
    return cmd


def run(module):
    p = module.params
    try:
        proc = subprocess.run(command(p, module.check_mode),
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=p["timeout"])
    except (OSError, subprocess.TimeoutExpired) as e:
        module.fail_json(msg="cannot run gmrenew: %s" % e, outcome=None,
                         action="failed", reason="not_run")
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        module.fail_json(msg="gmrenew exited %d without its JSON document: %s"
                         % (proc.returncode, proc.stderr.strip()),
                         outcome=None, action="failed", reason="no_output",
                         exit_code=proc.returncode)
    return proc, doc


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pin_file=dict(type="path", required=True, no_log=False),
            config=dict(type="path"),
            token=dict(type="str"),
            cert=dict(type="str"),
            binary=dict(type="path", default="gmrenew"),
            timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    proc, doc = run(module)
    action = doc.get("action")
    error = doc.get("error") or {}
    reason = error.get("reason")
    result = dict(outcome=doc, action=action, reason=reason,
                  exit_code=proc.returncode)
    if action in CHANGED or action == "dry_run":
        module.exit_json(changed=True, **result)
    if action == "not_due":
        module.exit_json(changed=False, **result)
    module.fail_json(msg="gmrenew: %s: %s" % (reason or "failed",
                                               error.get("message", "")),
                     stderr=proc.stderr, **result)


if __name__ == "__main__":
    main()
