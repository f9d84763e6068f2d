"""The seccomp filter a sandboxed kernel runs under (a classic BPF program, built here by hand).

It blocks what bwrap's ``--disable-userns`` blocks where bwrap cannot use it (grading as root,
where bwrap makes no user namespace of its own), and one thing bwrap never blocks:

- ``unshare``/``clone`` with ``CLONE_NEWUSER`` -> EPERM: no user namespace, hence no process with
  full capabilities inside one; ``clone3`` -> ENOSYS (its flags sit in memory a filter cannot
  read; the C library then falls back to ``clone``, as under Flatpak and Docker);
- ``ioctl`` ``TIOCSTI``/``TIOCLINUX`` -> EPERM: no keystrokes pushed into a terminal;
- any other architecture's system calls (x32, i386 on x86-64) -> EPERM, so the filter cannot be
  stepped around.

``program()`` is empty on an architecture without a table here: the kernel then runs without it
(``--new-session`` still keeps it off the grader's terminal).
"""

from __future__ import annotations

import platform
import struct

__all__ = ["program"]

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_CLONE_NEWUSER = 0x10000000
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
_X32_BIT = 0x40000000

# machine -> (AUDIT_ARCH, syscall numbers), from the kernel's unistd tables
_TABLES = {
    "x86_64": (0xC000003E, {"ioctl": 16, "clone": 56, "unshare": 272, "clone3": 435}),
    "aarch64": (0xC00000B7, {"ioctl": 29, "clone": 220, "unshare": 97, "clone3": 435}),
}


def _arg_low(index: int) -> int:
    """Offset of the low 32 bits of syscall argument ``index`` in ``struct seccomp_data``."""
    return 16 + 8 * index


def program(machine: str | None = None) -> bytes:
    """The filter as ``struct sock_filter`` records, b'' where this architecture has no table."""
    machine = machine or platform.machine()
    if machine not in _TABLES:
        return b""
    arch, nr = _TABLES[machine]
    # (code, true-label, false-label, k); labels resolve to relative jumps below
    code: list[tuple] = [
        ("arch", _LD_W_ABS, None, None, 4),
        (None, _JEQ, None, "deny", arch),
        (None, _LD_W_ABS, None, None, 0),
    ]
    if machine == "x86_64":
        code.append((None, _JGE, "deny", None, _X32_BIT))
    code += [
        (None, _JEQ, "nosys", None, nr["clone3"]),
        (None, _JEQ, "flags", None, nr["unshare"]),
        (None, _JEQ, "flags", None, nr["clone"]),
        (None, _JEQ, "ioctl", "allow", nr["ioctl"]),
        ("flags", _LD_W_ABS, None, None, _arg_low(0)),
        (None, _JSET, "deny", "allow", _CLONE_NEWUSER),
        ("ioctl", _LD_W_ABS, None, None, _arg_low(1)),
        (None, _JEQ, "deny", None, _TIOCSTI),
        (None, _JEQ, "deny", "allow", _TIOCLINUX),
        ("deny", _RET, None, None, _ERRNO | _EPERM),
        ("nosys", _RET, None, None, _ERRNO | _ENOSYS),
        ("allow", _RET, None, None, _ALLOW),  # BPF jumps only forward: the targets come last
    ]
    where = {label: i for i, (label, *_rest) in enumerate(code) if label}
    out = b""
    for i, (_label, op, true, false, k) in enumerate(code):
        jt = where[true] - i - 1 if true else 0
        jf = where[false] - i - 1 if false else 0
        out += struct.pack("=HBBI", op, jt, jf, k)
    return out
