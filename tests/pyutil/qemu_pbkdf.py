"""qemu-img's PBKDF2 calibration flake, in one place for every suite.

When qemu-img (or libvirt's dir pool running it) sets up a LUKS key, QEMU
first times PBKDF2 on the thread's CPU clock (crypto/pbkdf.c).  Where that
clock is coarse -- in this sandbox about 4 runs in 10 measure no CPU time at
all -- qemu-img gives up with "Unable to get accurate CPU usage" and exits 1,
having created nothing.  That is QEMU's flake, not a result about vdisk, so a
command that failed with exactly that message is run again; anything else
(including a different failure) is returned at once.

At 40 % per run, four attempts still lost about one suite run in three
(CI, stop 23); ATTEMPTS makes a lost test about one in 10**10.
"""

import time

QEMU_PBKDF_FLAKE = "Unable to get accurate CPU usage"
ATTEMPTS = 25


def is_pbkdf_flake(p):
    """True when a CompletedProcess failed only with QEMU's calibration flake."""
    return p.returncode != 0 and isinstance(p.stderr, str) and QEMU_PBKDF_FLAKE in p.stderr


def retry_pbkdf_flake(call):
    """Run call() (which returns a CompletedProcess) until it does not fail
    with the calibration flake, at most ATTEMPTS times; return the last result."""
    for attempt in range(ATTEMPTS):
        p = call()
        if not is_pbkdf_flake(p):
            return p
        time.sleep(0.02 * (attempt + 1))
    return p
