"""Runs a command in a umockdev testbed and plugs a recorded USB device in
and out while it runs, with real uevents (what libusb's hotplug events
come from). Must itself run under umockdev-wrapper, so that its udev calls
see the testbed:

    umockdev-wrapper python3 hotplug.py DEVICE.umockdev STEPS -- COMMAND...

STEPS is a comma-separated list done in order while COMMAND runs:
"sleep:SECONDS", "add" (the device appears, with an "add" uevent),
"remove" (a "remove" uevent, then it is gone), "run:SHELL COMMAND",
"until:FILE=TEXT" (waits up to 60 s for FILE to hold TEXT, such as the
command's stderr redirected there). The command's output passes through;
the exit code is the command's."""
import os
import subprocess
import sys
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402


def syspath(record):
    """The /sys path of the first device in a umockdev record."""
    with open(record) as f:
        for line in f:
            if line.startswith("P: "):
                return "/sys" + line[3:].strip()
    raise SystemExit("hotplug.py: no device in %s" % record)


def until(path, text, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        time.sleep(0.1)
    raise SystemExit("hotplug.py: %r never showed %r" % (path, text))


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        raise SystemExit(__doc__)
    record, steps, cmd = argv[0], argv[1], argv[3:]
    bed = UMockdev.Testbed.new()
    dev = syspath(record)
    env = dict(os.environ, UMOCKDEV_DIR=bed.get_root_dir())
    child = subprocess.Popen(cmd, env=env)
    for step in steps.split(","):
        kind, _, arg = step.partition(":")
        if kind == "sleep":
            time.sleep(float(arg))
        elif kind == "add":
            if not bed.add_from_file(record):
                raise SystemExit("hotplug.py: cannot add %s" % record)
            bed.uevent(dev, "add")
        elif kind == "remove":
            bed.uevent(dev, "remove")
            bed.remove_device(dev)
        elif kind == "run":
            subprocess.run(arg, shell=True, check=True)
        elif kind == "until":
            until(*arg.split("=", 1))
        else:
            raise SystemExit("hotplug.py: unknown step %r" % step)
    return child.wait(timeout=120)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
