"""Confinement of the sandbox's child: what the student's process may touch, and what says so.

The child applies these before it imports the student's module (see child.py), in this order:
hard resource limits, a pids cgroup (the process limit that binds root too), the drop of root's
privileges, then Landlock (Linux 5.13+), which leaves the process

* reading (and executing) only the Python installation, the system's shared libraries, the
  staged trusted runtime, the probes and its own copy of the student's module;
* writing only in its scratch folder and /dev/shm (where multiprocessing keeps semaphores: the
  sandbox's own where private folders are in force);
* connecting over TCP only to the given loopback ports, binding none (ABI 4+);
* signalling, and connecting to abstract unix sockets of, nothing outside its own processes
  (ABI 6+): `os.kill(os.getppid(), SIGKILL)` fails.

Last, a seccomp filter (`apply_socket_filter`) leaves it making Unix and TCP sockets only.

Before any of that, on Linux, the sandbox's process starts in a mount namespace of its own (see
`private_folders`): /dev/shm, /tmp, /var/tmp and its own folder are fresh tmpfs mounts that no
other process sees and that vanish with the sandbox's last process.

Root: where the unprivileged user can read the Python installation and the sandbox's folders,
the child becomes that user; otherwise it stays uid 0 with every capability dropped (it then
cannot bypass file permissions, raise hard limits or leave Landlock), and a pids cgroup caps its
processes, since the kernel exempts uid 0 from RLIMIT_NPROC.

`protections_in_force()` says, per protection, whether it holds on this machine and why not.
Elsewhere (macOS, Windows, kernels without Landlock) grading runs without the missing pieces.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import sysconfig
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

IN_FORCE = "in force"
UNPRIVILEGED_USER = "nobody"

# Landlock ABI versions that brought what the sandbox uses (kernel documentation).
_NETWORK_ABI = 4
_SCOPE_ABI = 6
# Shared libraries the interpreter and its extension modules load; read only.
_SYSTEM_LIBRARIES = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib",
                     "/etc/ld.so.cache")
# Devices Python and multiprocessing open: /dev/shm holds POSIX semaphores (write).
_DEVICES_READ_WRITE = ("/dev/null",)
_DEVICES_READ = ("/dev/urandom",)
_SHARED_MEMORY = "/dev/shm"

_CGROUP_NAME_PREFIX = "concurrency-kit-"

# Folders every process of the machine may write in: each sandbox gets fresh, empty ones.
SHARED_FOLDERS = ("/dev/shm", "/tmp", "/var/tmp")
# Where the machine's daemons keep their Unix sockets (Docker's, D-Bus's, systemd's): each sandbox
# sees an empty folder there, since Landlock does not limit connecting to a socket file.
DAEMON_FOLDERS = ("/run",)
# unshare(2) and mount(2) flags (linux/sched.h, linux/mount.h).
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000


# -- Landlock -------------------------------------------------------------------------------------

def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (not Linux, old or disabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        import landlockpy
    except ImportError:
        return 0
    _lend_libc(landlockpy)
    try:
        return landlockpy.abi_version()
    except OSError:
        return 0


def _lend_libc(landlockpy: Any) -> None:
    """Hand landlockpy the C library this process has loaded: its own lookup, find_library("c"),
    runs `ldconfig -p` in a new process, several milliseconds of every sandbox's start. (A
    version without that private slot keeps its own lookup.)"""
    syscalls = getattr(landlockpy, "_syscall", None)
    if syscalls is not None and getattr(syscalls, "_libc", False) is None:
        syscalls._libc = _libc()


@dataclass(frozen=True)
class Grants:
    """What the confined child may reach: files and folders to read, folders to write in, and
    the TCP ports it may connect to (None: TCP is not limited)."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    ports: tuple[int, ...] | None


def python_installation() -> list[str]:
    """Folders of the running Python: its prefixes (a venv's own folder, not what holds it),
    the standard library and site-packages, and the interpreter binary's folder."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
               os.path.dirname(os.path.realpath(sys.executable))}
    folders.update(sysconfig.get_paths().values())
    return sorted(folder for folder in folders if folder and os.path.exists(folder))


def system_libraries() -> list[str]:
    return [path for path in _SYSTEM_LIBRARIES if os.path.exists(path)]


def child_grants(trusted: Iterable[str], scratch: str, ports: Collection[int]) -> Grants:
    """The grants of a sandbox's child: `trusted` (runtime, probes, module copy) read only,
    `scratch` writable."""
    read = [*python_installation(), *system_libraries(), *trusted,
            *(device for device in _DEVICES_READ if os.path.exists(device))]
    write = [scratch, *(device for device in _DEVICES_READ_WRITE if os.path.exists(device))]
    if os.path.isdir(_SHARED_MEMORY):
        write.append(_SHARED_MEMORY)
    return Grants(tuple(read), tuple(write), tuple(sorted(set(ports))))


def apply_landlock(grants: Grants) -> str:
    """Confine this process and its future children; return what is in force, or why not.

    Must run while the process has a single thread: without the TSYNC flag (ABI 8) Landlock
    confines the calling thread only.
    """
    abi = landlock_abi()
    if abi == 0:
        return _landlock_missing()
    from landlockpy import AccessFS, AccessNet, Ruleset, Scope, fs_for_abi

    all_fs = fs_for_abi(abi)
    read = AccessFS.READ_FILE | AccessFS.READ_DIR | AccessFS.EXECUTE
    write = all_fs & ~AccessFS.EXECUTE
    file_rights = AccessFS.EXECUTE | AccessFS.WRITE_FILE | AccessFS.READ_FILE | AccessFS.TRUNCATE | AccessFS.IOCTL_DEV
    limit_tcp = abi >= _NETWORK_ABI and grants.ports is not None
    handled_net = AccessNet.BIND_TCP | AccessNet.CONNECT_TCP if limit_tcp else AccessNet.NONE
    scoped = Scope.SIGNAL | Scope.ABSTRACT_UNIX_SOCKET if abi >= _SCOPE_ABI else Scope.NONE
    with Ruleset(handled_fs=all_fs, handled_net=handled_net, scoped=scoped) as ruleset:
        for rights, paths in ((read, grants.read), (write, grants.write)):
            for path in paths:
                # A rule on a file may only carry the rights that apply to files.
                ruleset.allow_path(path, rights if os.path.isdir(path) else rights & file_rights)
        for port in grants.ports or ():
            ruleset.allow_port(port, AccessNet.CONNECT_TCP)
        ruleset.restrict()
    return _landlock_status(abi)


def _landlock_missing() -> str:
    if not sys.platform.startswith("linux"):
        return f"not in force: Landlock is a Linux feature, this is {sys.platform}"
    try:
        import landlockpy  # noqa: F401
    except ImportError:
        return "not in force: the landlockpy package is not installed (pip install landlockpy)"
    return "not in force: this kernel has no Landlock (Linux 5.13+ with Landlock enabled at boot)"


def _landlock_status(abi: int) -> str:
    if abi == 0:
        return _landlock_missing()
    missing = []
    if abi < _NETWORK_ABI:
        missing.append(f"TCP connections are not limited (needs ABI {_NETWORK_ABI})")
    if abi < _SCOPE_ABI:
        missing.append(f"signals to the grader are not blocked (needs ABI {_SCOPE_ABI})")
    if missing:
        return f"partly in force (Landlock ABI {abi}): files confined; " + "; ".join(missing)
    return f"{IN_FORCE} (Landlock ABI {abi}: files, TCP ports, signals)"


# -- socket filter (seccomp) ----------------------------------------------------------------------

# Landlock limits TCP only. This seccomp filter lets socket() make only what the exercises use:
# Unix sockets (multiprocessing) and TCP (whose ports Landlock limits). UDP, netlink, raw and
# packet sockets, SCTP and MPTCP fail with EPERM, as does io_uring, which makes sockets without
# socket(). Hand-written classic BPF over prctl: `pyseccomp`, the ctypes binding of libseccomp,
# has had no release since 2021, and these dozen instructions need no library at all.
# The same filter keeps the calls that change another process without a signal (which Landlock's
# scope covers) to the caller itself: prlimit() could take the supervisor's or the grader's file
# descriptors, setpriority() and the scheduler calls could slow the reference sandbox.
# Per architecture (64-bit, little-endian): AUDIT_ARCH_*, socket(), io_uring_setup(), the first
# syscall number of another ABI sharing the architecture (x86's x32), if any, and the calls on a
# process: (number, index of the argument naming the process, the "which" of argument 0 or None).
_SECCOMP_ARCHES = {
    "x86_64": (0xC000003E, 41, 425, 0x40000000,
               ((302, 0, None), (141, 1, 0), (251, 1, 1), (203, 0, None), (144, 0, None), (142, 0, None),
                (314, 0, None))),
    "aarch64": (0xC00000B7, 198, 425, None,
                ((261, 0, None), (140, 1, 0), (30, 1, 1), (122, 0, None), (119, 0, None), (118, 0, None),
                 (274, 0, None))),
}
_AF_UNIX, _AF_INET, _AF_INET6, _SOCK_STREAM, _IPPROTO_TCP = 1, 2, 10, 1, 6
_SOCK_FLAGS = 0o4000 | 0o2000000  # SOCK_NONBLOCK | SOCK_CLOEXEC
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM
# Classic BPF opcodes: load a word of seccomp_data, jump if equal / greater or equal, and, return.
_LD, _JEQ, _JGE, _AND, _RET = 0x20, 0x15, 0x35, 0x54, 0x06


# AUDIT_ARCH, socket(), io_uring_setup(), the first foreign syscall, the calls on a process.
Arch = tuple[int, int, int, int | None, tuple[tuple[int, int, int | None], ...]]


def _seccomp_arch() -> Arch | None:
    import platform
    import struct

    if not sys.platform.startswith("linux") or struct.calcsize("P") != 8:
        return None
    return _SECCOMP_ARCHES.get(platform.machine())


def socket_filter_program(arch: Arch) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jump if true, jump if false, k) instructions; jumps name labels.
    A call on a process passes only when it names the caller (0), with "which" the process."""
    audit_arch, socket_nr, io_uring_setup, foreign_abi, on_a_process = arch
    argument = [16 + 8 * index for index in range(3)]  # the low word of args[i] (little-endian)
    own_process_only: list[Any] = []
    for number, (_, who, which) in enumerate(on_a_process):
        own_process_only += [
            f"process {number}",
            *([(_LD, 0, 0, argument[0]), (_JEQ, 0, "deny", which)] if which is not None else []),
            (_LD, 0, 0, argument[who]), (_JEQ, "allow", "deny", 0),
        ]
    program: list[Any] = [
        (_LD, 0, 0, 4), (_JEQ, 0, "deny", audit_arch),  # a foreign architecture (int 0x80): nothing
        (_LD, 0, 0, 0),
        *([(_JGE, "deny", 0, foreign_abi)] if foreign_abi is not None else []),
        (_JEQ, "deny", 0, io_uring_setup),
        *((_JEQ, f"process {number}", 0, call) for number, (call, _, _) in enumerate(on_a_process)),
        (_JEQ, 0, "allow", socket_nr),
        (_LD, 0, 0, argument[0]),
        (_JEQ, "allow", 0, _AF_UNIX), (_JEQ, "stream", 0, _AF_INET), (_JEQ, "stream", "deny", _AF_INET6),
        "stream", (_LD, 0, 0, argument[1]), (_AND, 0, 0, ~_SOCK_FLAGS & 0xFFFFFFFF), (_JEQ, 0, "deny", _SOCK_STREAM),
        (_LD, 0, 0, argument[2]), (_JEQ, "allow", 0, 0), (_JEQ, "allow", "deny", _IPPROTO_TCP),
        *own_process_only,
        "allow", (_RET, 0, 0, _RET_ALLOW),
        "deny", (_RET, 0, 0, _RET_EPERM),
    ]
    labels, instructions = {}, []
    for entry in program:
        if isinstance(entry, str):
            labels[entry] = len(instructions)
        else:
            instructions.append(entry)

    def offset(target: Any, at: int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return [(code, offset(true, at), offset(false, at), k) for at, (code, true, false, k) in enumerate(instructions)]


def apply_socket_filter() -> str:
    """Install the socket filter on this process and its future children; return what is in
    force, or why not. Like Landlock, it must run while the process has a single thread."""
    arch = _seccomp_arch()
    if arch is None:
        return _socket_filter_missing()
    import ctypes

    class Instruction(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Instruction))]

    instructions = socket_filter_program(arch)
    table = (Instruction * len(instructions))(*(Instruction(*entry) for entry in instructions))
    program = Program(len(instructions), table)
    prctl = _libc().prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    # No new privileges first: without it only CAP_SYS_ADMIN may install a filter.
    if prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0 or \
            prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        return f"not in force: the kernel refused the seccomp filter ({os.strerror(ctypes.get_errno())})"
    return _SOCKET_FILTER_IN_FORCE


_SOCKET_FILTER_IN_FORCE = (f"{IN_FORCE} (seccomp: only Unix and TCP sockets; no UDP, raw, netlink or io_uring;"
                           " limits, priority and CPU affinity of its own process only)")


def _socket_filter_missing() -> str:
    if not sys.platform.startswith("linux"):
        return f"not in force: seccomp is a Linux feature, this is {sys.platform}; UDP and other sockets are open"
    import platform

    return (f"not in force: no seccomp filter for this architecture ({platform.machine()}, 64-bit x86_64 and"
            " aarch64 have one); UDP and other sockets are open")


@lru_cache(maxsize=1)
def socket_filter_status() -> str:
    """Whether sandboxes get the socket filter here: tried once, on a throwaway process."""
    if _seccomp_arch() is None:
        return _socket_filter_missing()
    import subprocess

    check = ("import socket, sys; sys.path.insert(0, sys.argv[1])\n"
             "from grader.harness.confine import apply_socket_filter; print(apply_socket_filter())\n"
             "try: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nexcept PermissionError: pass\n"
             "else: print('UDP still allowed')")
    try:
        done = subprocess.run([sys.executable, "-I", "-c", check, str(Path(__file__).resolve().parents[2])],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        return f"not in force: could not try the seccomp filter ({error})"
    status = done.stdout.strip()
    return status if status == _SOCKET_FILTER_IN_FORCE else f"not in force: {status or done.stderr.strip()[-200:]}"


# -- resource limits ------------------------------------------------------------------------------

_RLIMIT_NAMES = {
    "memory_bytes": "RLIMIT_AS",
    "cpu_seconds": "RLIMIT_CPU",
    "file_bytes": "RLIMIT_FSIZE",
    "processes": "RLIMIT_NPROC",
}


def set_hard_limits(limits: dict[str, int], tasks_running: int | None) -> None:
    """Set each limit as soft and hard limit, so the process cannot raise it again.

    RLIMIT_NPROC counts every task of the user, so it is set to `processes` on top of the
    `tasks_running` (skipped where that count is unknown).
    """
    try:
        import resource
    except ImportError:  # Windows: the parent's wall-clock timeout is the only limit
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, name in _RLIMIT_NAMES.items():
        limit = getattr(resource, name, None)
        if limit is None or key not in limits:
            continue
        wanted = limits[key]
        if key == "processes":
            if tasks_running is None:
                continue
            wanted += tasks_running
        _soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        try:
            resource.setrlimit(limit, (wanted, wanted))
        except (ValueError, OSError):  # some platforms (macOS) refuse a few of them
            pass


def tasks_of_user(uid: int) -> int | None:
    """Threads and processes of `uid` that count towards this process's RLIMIT_NPROC: those in
    its user namespace (a sandbox without root has one of its own, where the kernel counts the
    user's tasks afresh); None without /proc."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    namespace = _user_namespace("self")
    count = 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid and _user_namespace(entry) == namespace:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue
    return count


def _user_namespace(process: str) -> str | None:
    """The user namespace of a process of /proc; None where the kernel has none to show."""
    try:
        return os.readlink(f"/proc/{process}/ns/user")
    except OSError:
        return None


# -- privileges -----------------------------------------------------------------------------------

def unprivileged_ids() -> tuple[int, int] | None:
    """uid and gid of the unprivileged user the child becomes, or None where there is none."""
    try:
        import pwd
    except ImportError:
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def readable_by(uid: int, gid: int, path: str) -> bool:
    """Whether `uid`/`gid` (no supplementary groups, no capabilities) can reach and read `path`:
    every folder on the way searchable, the path itself readable (and searchable if a folder)."""
    target = Path(os.path.realpath(path))
    for folder in reversed(target.parents):
        if not _permits(uid, gid, folder, stat.S_IXUSR):
            return False
    needed = stat.S_IRUSR | (stat.S_IXUSR if target.is_dir() else 0)
    return _permits(uid, gid, target, needed)


def _permits(uid: int, gid: int, path: Path, user_bits: int) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False
    shift = 0 if info.st_uid == uid else 3 if info.st_gid == gid else 6
    wanted = user_bits >> shift
    return info.st_mode & wanted == wanted


def privilege_plan(needed: Iterable[str]) -> str:
    """"drop" (become the unprivileged user), "capabilities" (stay uid 0, drop every capability)
    or "none" (not root, or not POSIX)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "none"
    ids = unprivileged_ids()
    if ids is not None and all(readable_by(*ids, path) for path in needed):
        return "drop"
    return "capabilities" if sys.platform.startswith("linux") else "none"


def drop_privileges(plan: str) -> None:
    """Carry out `privilege_plan`'s answer for this process (and its future children)."""
    if plan == "drop":
        ids = unprivileged_ids()
        assert ids is not None
        uid, gid = ids
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    elif plan == "capabilities":
        _drop_all_capabilities()


def _libc() -> Any:
    """The C library, for the system calls Python has no function for (on every version)."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _drop_all_capabilities() -> None:
    """Empty the bounding set (no exec can bring a capability back) and the current sets."""
    import ctypes

    libc = _libc()
    pr_capbset_drop = 24
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise OSError(ctypes.get_errno(), "could not drop a capability from the bounding set")

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    linux_capability_version_3 = 0x20080522
    header, data = Header(linux_capability_version_3, 0), (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "could not drop the capabilities")


# -- pids cgroup ----------------------------------------------------------------------------------

def _pids_hierarchy() -> str | None:
    """A writable cgroup folder under which a child cgroup gets a pids.max: cgroup v2 with the
    pids controller enabled at its root, else the v1 pids hierarchy."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    v2, v1 = None, None
    for line in mounts:
        fields = line.split()
        if len(fields) < 4:
            continue
        kind, target, options = fields[2], fields[1], fields[3].split(",")
        if kind == "cgroup2" and v2 is None:
            v2 = target
        elif kind == "cgroup" and "pids" in options and v1 is None:
            v1 = target
    if v2 is not None:
        try:
            if "pids" in Path(v2, "cgroup.subtree_control").read_text().split():
                return v2
        except OSError:
            pass
    return v1


class PidsCgroup:
    """A cgroup of its own for one sandbox's processes: caps how many there are (root too)
    and lists them all, whatever session or process group they moved to."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, name: str, max_tasks: int) -> PidsCgroup | None:
        """A new cgroup limited to `max_tasks` threads and processes; None where this process
        may not make one (not root, no pids controller)."""
        hierarchy = _pids_hierarchy()
        if hierarchy is None:
            return None
        path = Path(hierarchy, _CGROUP_NAME_PREFIX + name)
        try:
            path.mkdir()
            (path / "pids.max").write_text(f"{max_tasks}\n")
        except OSError:
            try:
                path.rmdir()
            except OSError:
                pass
            return None
        return cls(path)

    @property
    def procs_file(self) -> str:
        return str(self.path / "cgroup.procs")

    def pids(self) -> list[int]:
        try:
            return [int(pid) for pid in Path(self.procs_file).read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup until none is left (new ones cannot appear faster
        than they are killed: the cgroup's limit bounds them)."""
        import signal

        while pids := self.pids():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.sched_yield()

    def remove(self) -> None:
        for _ in range(100):  # a killed process leaves the cgroup a moment after it died
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                self.kill_all()
                os.sched_yield()


def join_cgroup(procs_file: str) -> None:
    Path(procs_file).write_text(f"{os.getpid()}\n")


# -- process cleanup ------------------------------------------------------------------------------

def become_subreaper() -> bool:
    """Make this process the reaper of every orphaned descendant (Linux 3.4+): a double-forked
    setsid() daemon becomes its child instead of init's, so it can be found and killed."""
    if not sys.platform.startswith("linux"):
        return False
    pr_set_child_subreaper = 36
    return _libc().prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0


def own_children() -> list[int] | None:
    """This process's children (Linux /proc); None where the kernel does not list them."""
    pid = os.getpid()
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return None


# -- private shared folders -----------------------------------------------------------------------

def private_folders(keep: Iterable[str], box: str, size_bytes: int) -> Callable[[], None]:
    """A function to run in a new process between fork and exec (subprocess's `preexec_fn`) that
    moves it, and every process it starts, into a mount namespace of its own: /dev/shm, /tmp and
    /var/tmp become fresh, empty tmpfs mounts, /run (the daemons' sockets) an empty one, and
    `box` a fresh tmpfs holding a copy of what the folder holds on disk now (folders and files,
    with their owners and modes), so the caller may remove it from the disk once the process has
    started. What is written there lives in memory,
    no other process sees it, and it is gone with the namespace's last process. Folders of `keep`
    that a fresh mount hides (the Python installation, the trusted runtime) are bind-mounted back
    at their paths. The namespace's mounts are private: nothing propagates back to the machine.

    Without root, a user namespace that maps the process's ids to themselves grants the right to
    mount; exec then drops the capabilities it brought. The function raises OSError where the
    kernel refuses. It reads `box` and resolves the C functions now, in the parent: a process
    forked from a threaded one must not load libraries before it execs.
    """
    import ctypes

    libc = _libc()
    unshare, mount, get_errno = libc.unshare, libc.mount, ctypes.get_errno
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    shared = sorted({os.path.realpath(folder) for folder in SHARED_FOLDERS if os.path.isdir(folder)})
    daemons = sorted({os.path.realpath(folder) for folder in DAEMON_FOLDERS if os.path.isdir(folder)} - set(shared))
    hidden = _outermost(path for path in map(os.path.realpath, keep) if _inside(path, [*shared, *daemons]))
    contents = _snapshot(box)

    def check(result: int, what: str) -> None:
        if result != 0:
            error = get_errno()
            raise OSError(error, f"{what}: {os.strerror(error)}")

    def mount_tmpfs(folder: str) -> None:
        check(mount(b"tmpfs", folder.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size_bytes}".encode()),
              f"mount a tmpfs on {folder}")

    def enter() -> None:
        cwd, uid, gid = os.getcwd(), os.geteuid(), os.getegid()
        check(unshare(_CLONE_NEWNS if uid == 0 else _CLONE_NEWUSER | _CLONE_NEWNS), "unshare")
        if uid != 0:
            for name, line in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                _write(f"/proc/self/{name}", line.encode())
        check(mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "make the mounts private")
        # Opened in the new namespace (a bind mount's source must be in it), before they are hidden.
        kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in hidden]
        for folders, mode in ((shared, 0o1777), (daemons, 0o755)):
            for folder in folders:
                mount_tmpfs(folder)
                os.chmod(folder, mode)
        for path, handle in kept:
            os.makedirs(path, exist_ok=True)
            check(mount(f"/proc/self/fd/{handle}".encode(), path.encode(), None, _MS_BIND | _MS_REC, None),
                  f"bind {path} back")
            os.close(handle)
        os.makedirs(box, exist_ok=True)
        mount_tmpfs(box)
        _restore(box, contents)
        os.chdir(cwd)  # into the fresh copy, if the working directory is in the box

    return enter


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path == folder or path.startswith(folder + os.sep) for folder in folders)


def _outermost(paths: Iterable[str]) -> list[str]:
    """`paths` without those inside another of them."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not _inside(path, kept):
            kept.append(path)
    return kept


# A folder's entry: its path relative to the folder ("" for itself), mode, owner, and a file's bytes.
_Entry = tuple[str, int, tuple[int, int], bytes | None]


def _snapshot(root: str) -> list[_Entry]:
    """Every folder and file under `root`, each folder before what it holds."""
    entries: list[_Entry] = []
    for folder, _, files in os.walk(root):
        for path in (folder, *(os.path.join(folder, name) for name in files)):
            info = os.stat(path)
            content = None if path == folder else Path(path).read_bytes()
            entries.append((os.path.relpath(path, root) if path != root else "", stat.S_IMODE(info.st_mode),
                            (info.st_uid, info.st_gid), content))
    return entries


def _restore(root: str, entries: list[_Entry]) -> None:
    """Make `_snapshot`'s entries again under `root`, an empty folder."""
    for relative, mode, owner, content in entries:
        path = os.path.join(root, relative)
        if content is not None:
            _write(path, content, create=True)
        elif relative:
            os.mkdir(path)
        os.chown(path, *owner)
        os.chmod(path, mode)  # after chown, which may clear some bits


def _write(path: str, content: bytes, create: bool = False) -> None:
    handle = os.open(path, os.O_WRONLY | (os.O_CREAT | os.O_EXCL if create else 0), 0o600)
    try:
        while content:
            content = content[os.write(handle, content):]
    finally:
        os.close(handle)


@lru_cache(maxsize=1)
def private_folders_status() -> str:
    """Whether sandboxes get private shared folders here: tried once, on a throwaway process."""
    if not sys.platform.startswith("linux"):
        return f"not in force: private mounts are a Linux feature, this is {sys.platform}; /dev/shm and /tmp are shared"
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as box:
        try:
            subprocess.run([sys.executable, "-I", "-S", "-c", ""], cwd=box, check=True, capture_output=True,
                           timeout=60, preexec_fn=private_folders(python_installation(), box, 1 << 20))
        except (OSError, subprocess.SubprocessError):
            who = ("running as root, but without the right to mount (a container?)" if os.geteuid() == 0
                   else "this user may not create user namespaces here (kernel or AppArmor settings)")
            return f"not in force: {who}; the sandbox shares /dev/shm, /tmp and /var/tmp with the machine"
    return (f"{IN_FORCE} (a mount namespace per sandbox: fresh /dev/shm, /tmp, /var/tmp and sandbox folder,"
            " in memory, gone with the sandbox; the daemons' sockets in /run out of sight)")


# -- the report -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def protections_in_force() -> dict[str, str]:
    """Per protection, "in force" or why it is not, for the terminal header and the report."""
    linux = sys.platform.startswith("linux")
    posix = os.name == "posix"
    abi = landlock_abi()
    root = posix and os.geteuid() == 0
    protections = {
        "landlock": _landlock_status(abi),
        "resource limits": f"{IN_FORCE} (hard limits: memory, CPU time, file size, processes)" if posix
        else "not in force: Windows has no resource limits; only the time limit applies",
        "privilege drop": _privilege_drop_status(root),
        "process limit": _process_limit_status(root),
        "process cleanup": _cleanup_status(linux, abi),
        "private folders": private_folders_status(),
        "socket filter": socket_filter_status(),
        "signed replies": f"{IN_FORCE} (HMAC-SHA256 with a key only the trusted code receives)"
        if abi >= _SCOPE_ABI else "partly in force: replies are signed, but without Landlock's"
        " isolation a submission could read the key from another process's memory",
    }
    return protections


def _privilege_drop_status(root: bool) -> str:
    if not root:
        return "not needed: the grader does not run as root"
    plan = privilege_plan(python_installation())
    if plan == "drop":
        return f"{IN_FORCE} (the child runs as the unprivileged user {UNPRIVILEGED_USER!r})"
    if plan == "capabilities":
        return (f"partly in force: the Python installation is not readable by {UNPRIVILEGED_USER!r}, so the"
                " child stays uid 0 with every capability dropped")
    return "not in force: running as root and no unprivileged user to become"


def _process_limit_status(root: bool) -> str:
    if os.name != "posix":
        return "not in force: Windows has no process limit"
    if not root:
        return f"{IN_FORCE} (RLIMIT_NPROC, hard)"
    if privilege_plan(python_installation()) == "drop":
        return f"{IN_FORCE} (RLIMIT_NPROC of the unprivileged user, hard)"
    probe = PidsCgroup.create(f"probe-{os.getpid()}", 1)
    if probe is None:
        return "not in force: the child runs as uid 0, which RLIMIT_NPROC does not bind, and no pids cgroup can be made"
    probe.remove()
    return f"{IN_FORCE} (a pids cgroup per sandbox)"


def _cleanup_status(linux: bool, abi: int) -> str:
    if not linux:
        return ("partly in force: the sandbox's process group is killed; a process that left it"
                " (setsid) survives on this OS")
    if abi < _SCOPE_ABI:
        return ("partly in force: a supervisor reaps and kills every descendant, but without Landlock"
                " scoping a submission could kill the supervisor first")
    return f"{IN_FORCE} (a supervisor per sandbox is the subreaper of every process the submission starts)"
