"""The sandbox's confinement: what a submission cannot reach, and what it still can do.

Every check runs real submissions in real sandboxes; the protections a machine lacks are
skipped with the reason `protections_in_force()` gives.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader.harness import confine
from grader.harness.integrity import TAMPERED
from student_runtime.loopback import LoopbackServer
from grader.harness.sandbox import ForgedReply, Limits, RaceCheckNotWatching, StudentCodeError
from grader.manifest import KIT_ROOT

PROBES = '''
def call(module, name, args=()):
    return getattr(module, name)(*args)

def race_check(module, seed):
    """A race check whose forced schedule never ran (as if switched off)."""
    return module.answer()

def in_worker():
    global IN_WORKER
    IN_WORKER = True
'''

LANDLOCK = confine.landlock_abi()
needs_landlock = pytest.mark.skipif(LANDLOCK < 6, reason=f"landlock {confine.protections_in_force()['landlock']}")
needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="subreaper and /proc are Linux's")
PRIVATE_FOLDERS = confine.private_folders_status()
needs_private_folders = pytest.mark.skipif(not PRIVATE_FOLDERS.startswith(confine.IN_FORCE),
                                           reason=f"private folders {PRIVATE_FOLDERS}")



READER = """
    import os
    def read(path):
        try:
            with open(path) as file:
                return file.read()
        except OSError as error:
            return f"refused: {error.strerror}"
    def write(path):
        try:
            with open(path, "w") as file:
                file.write("x")
            return "written"
        except OSError as error:
            return f"refused: {error.strerror}"
"""


@needs_landlock
def test_files_outside_the_sandbox_cannot_be_read(sandbox_for, tmp_path):
    secret = tmp_path / "other_submission.py"
    secret.write_text("THE ANSWER")
    box = sandbox_for(READER)
    reference = KIT_ROOT / "solutions" / "01_race_condition" / "counter.py"
    assert box.call("call", name="read", args=[str(reference)]).startswith("refused")
    assert box.call("call", name="read", args=[str(secret)]).startswith("refused")
    assert box.call("call", name="read", args=[str(KIT_ROOT / "grader" / "harness" / "plugin.py")]).startswith("refused")
    assert box.call("call", name="read", args=["/proc/self/environ"]).startswith("refused")


@needs_landlock
def test_only_the_scratch_folder_is_writable(sandbox_for, tmp_path):
    box = sandbox_for(READER)
    assert box.call("call", name="write", args=["mine.txt"]) == "written"
    assert box.call("call", name="write", args=[str(tmp_path / "escape.txt")]).startswith("refused")
    assert not (tmp_path / "escape.txt").exists()
    module_copy = box.call("call", name="read", args=[f"../../code/{box.module}.py"])
    assert "def read" in module_copy  # its own module copy is readable...
    assert box.call("call", name="write", args=[f"../../code/{box.module}.py"]).startswith("refused")  # ...not writable


def test_the_submission_sees_its_own_module_alone(sandbox_for):
    box = sandbox_for("""
        import os, sys
        def where():
            here = os.path.dirname(os.path.abspath(__file__))
            return {"files": os.listdir(here), "path": sys.path}
    """)
    seen = box.call("call", name="where")
    assert seen["files"] == [f"{box.module}.py"]
    assert not any(entry.startswith(str(KIT_ROOT)) and not entry.startswith(sys.prefix) for entry in seen["path"])


CONNECTOR = """
    import socket
    def connect(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return "connected"
        except OSError as error:
            return f"{type(error).__name__}: {error.strerror}"
    def bind():
        try:
            socket.socket().bind(("127.0.0.1", 0))
            return "bound"
        except OSError as error:
            return f"{type(error).__name__}: {error.strerror}"
"""


@needs_landlock
def test_tcp_connects_only_to_the_allowed_ports(sandbox_for):
    with socket.create_server(("127.0.0.1", 0)) as allowed, socket.create_server(("127.0.0.1", 0)) as other:
        allowed_port, other_port = allowed.getsockname()[1], other.getsockname()[1]
        box = sandbox_for(CONNECTOR, allowed_ports=[allowed_port])
        assert box.call("call", name="connect", args=[allowed_port]) == "connected"
        assert box.call("call", name="connect", args=[other_port]).startswith("PermissionError")
        assert box.call("call", name="bind").startswith("PermissionError")


SOCKET_FILTER = confine.socket_filter_status()
needs_socket_filter = pytest.mark.skipif(not SOCKET_FILTER.startswith(confine.IN_FORCE),
                                         reason=f"socket filter {SOCKET_FILTER}")
SOCKETS = """
    import socket
    def make(family, kind, protocol=0, to=None):
        try:
            with socket.socket(family, kind, protocol) as made:
                if to is not None:
                    made.sendto(b"hello", tuple(to))
            return "made"
        except OSError as error:
            return f"{type(error).__name__}: {error.strerror}"
"""


@needs_socket_filter
def test_only_unix_and_tcp_sockets_can_be_made(sandbox_for):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listening:
        listening.bind(("127.0.0.1", 0))
        listening.setblocking(False)
        box = sandbox_for(SOCKETS)
        refused = "PermissionError: Operation not permitted"
        assert box.call("call", name="make", args=[socket.AF_INET, socket.SOCK_DGRAM, 0,
                                                   list(listening.getsockname())]) == refused
        with pytest.raises(BlockingIOError):
            listening.recv(100)  # nothing arrived
    for family, kind, protocol in ((socket.AF_INET6, socket.SOCK_DGRAM, 0), (socket.AF_NETLINK, socket.SOCK_RAW, 0),
                                   (socket.AF_INET, socket.SOCK_STREAM, 132),  # SCTP: Landlock limits TCP only
                                   (socket.AF_INET, socket.SOCK_STREAM, 262)):  # MPTCP
        assert box.call("call", name="make", args=[family, kind, protocol]) == refused, (family, kind, protocol)
    for family, kind in ((socket.AF_UNIX, socket.SOCK_STREAM), (socket.AF_UNIX, socket.SOCK_DGRAM),
                         (socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC),
                         (socket.AF_INET6, socket.SOCK_STREAM)):
        assert box.call("call", name="make", args=[family, kind, 0]) == "made", (family, kind)


def run_filter(program: list[tuple[int, int, int, int]], arch: int, number: int, args: tuple[int, ...]) -> int:
    """What the classic BPF program returns for one system call (the few opcodes it uses)."""
    import struct

    data = struct.pack("<iIQ6Q", number, arch, 0, *args, *[0] * (6 - len(args)))
    accumulator, at = 0, 0
    while True:
        code, true, false, k = program[at]
        if code == 0x20:
            accumulator = struct.unpack_from("<I", data, k)[0]
        elif code == 0x54:
            accumulator &= k
        elif code == 0x06:
            return k
        elif code in (0x15, 0x35):
            taken = accumulator == k if code == 0x15 else accumulator >= k
            at += true if taken else false
        else:
            raise AssertionError(f"unknown opcode {code:#x}")
        at += 1


@pytest.mark.parametrize("machine", sorted(confine._SECCOMP_ARCHES))
def test_the_socket_filter_decides_as_documented(machine):
    arch = confine._SECCOMP_ARCHES[machine]
    audit_arch, socket_nr, io_uring_setup, _, on_a_process = arch
    program = confine.socket_filter_program(arch)
    allow, deny = confine._RET_ALLOW, confine._RET_EPERM

    def decide(number: int, *args: int, on: int = audit_arch) -> int:
        return run_filter(program, on, number, args)

    assert decide(socket_nr, socket.AF_UNIX, socket.SOCK_DGRAM) == allow
    assert decide(socket_nr, socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, 6) == allow
    assert decide(socket_nr, socket.AF_INET6, socket.SOCK_STREAM | socket.SOCK_NONBLOCK) == allow
    assert decide(socket_nr, socket.AF_INET, socket.SOCK_DGRAM) == deny
    assert decide(socket_nr, socket.AF_INET, socket.SOCK_STREAM, 132) == deny
    assert decide(socket_nr, socket.AF_INET, socket.SOCK_STREAM | 0x100000000, 1 << 32) == allow  # ints: low words
    assert decide(socket_nr, 16, socket.SOCK_RAW) == deny  # netlink
    assert decide(socket_nr, 17, socket.SOCK_RAW) == deny  # packet
    assert decide(io_uring_setup, 8, 0) == deny
    assert decide(0, 0) == allow and decide(1, 1) == allow  # every other system call
    assert decide(socket_nr, socket.AF_UNIX, socket.SOCK_STREAM, on=0x40000003) == deny  # i386 on x86_64
    if arch[3] is not None:
        assert decide(arch[3] | socket_nr, socket.AF_INET, socket.SOCK_DGRAM) == deny  # x32
    # prlimit, setpriority, ioprio_set and the scheduler calls: on the caller (0) only.
    for call, who, which in on_a_process:
        own, other = [which or 0, 0, 0], [which or 0, 0, 0]
        other[who] = 4242
        assert decide(call, *own) == allow and decide(call, *other) == deny
        if which is not None:
            assert decide(call, which + 1, 0, 0) == deny  # a process group or every process of the user


@needs_private_folders
@pytest.mark.skipif(not os.access("/run", os.W_OK), reason="this user cannot make a socket in /run")
def test_the_daemons_unix_sockets_are_out_of_sight(sandbox_for):
    path = f"/run/kit-test-{secrets.token_hex(6)}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as daemon:
        daemon.bind(path)
        try:
            os.chmod(path, 0o666)
            daemon.listen()
            box = sandbox_for("""
                import socket
                def connect(path):
                    try:
                        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                            client.connect(path)
                        return "connected"
                    except OSError as error:
                        return type(error).__name__
            """)
            assert box.call("call", name="connect", args=[path]) == "FileNotFoundError"
        finally:
            os.unlink(path)


@needs_landlock
def test_the_loopback_servers_refused_ports_are_refused_not_forbidden(sandbox_for):
    with LoopbackServer() as server:
        url = server.add(body="hello")
        box = sandbox_for("""
            import httpx
            def get(url):
                try:
                    return httpx.get(url, timeout=5).text
                except httpx.HTTPError as error:
                    return f"{type(error).__name__}: {error}"
        """, allowed_ports=server.ports)
        assert box.call("call", name="get", args=[url]) == "hello"
        assert box.call("call", name="get", args=[server.refused_url()]).startswith("ConnectError")
        assert "refused" in box.call("call", name="get", args=[server.refused_url()]).lower()


@needs_landlock
def test_the_grader_cannot_be_signalled(sandbox_for):
    box = sandbox_for("""
        import os, signal
        def kill(pid):
            try:
                os.kill(pid, signal.SIGKILL)
                return "killed"
            except OSError as error:
                return type(error).__name__
        def kill_parent():
            return kill(os.getppid())
    """)
    assert box.call("call", name="kill", args=[os.getpid()]) == "PermissionError"
    assert box.call("call", name="kill_parent") == "PermissionError"  # its supervisor


@pytest.mark.skipif(os.name != "posix", reason="resource limits are POSIX only")
def test_resource_limits_cannot_be_lifted(sandbox_for):
    box = sandbox_for("""
        import resource
        def lift():
            results = {}
            for name in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CPU"):
                limit = getattr(resource, name)
                soft, hard = resource.getrlimit(limit)
                try:
                    resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                    results[name] = "lifted"
                except (ValueError, OSError):
                    results[name] = "kept" if soft == hard != resource.RLIM_INFINITY else f"soft {soft} hard {hard}"
            return results
    """)
    assert box.call("call", name="lift") == {"RLIMIT_AS": "kept", "RLIMIT_FSIZE": "kept", "RLIMIT_CPU": "kept"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this OS")
def test_a_fork_bomb_is_stopped(sandbox_for):
    status = confine.protections_in_force()["process limit"]
    if not status.startswith(confine.IN_FORCE):
        pytest.skip(f"process limit {status}")
    box = sandbox_for("""
        import os, time
        def bomb():
            born = 0
            try:
                for _ in range(2000):
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    born += 1
            except OSError as error:
                return {"born": born, "error": type(error).__name__}
            return {"born": born, "error": None}
    """, limits=Limits(processes=40))
    result = box.call("call", name="bomb")
    assert result["error"] == "BlockingIOError" and result["born"] < 40, result


@needs_linux
def test_a_setsid_daemon_dies_with_the_sandbox(sandbox_for, tmp_path):
    box = sandbox_for("""
        import os, time
        def summon(marker):
            read_end, write_end = os.pipe()
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:  # the daemon: orphaned at once, in a session of its own
                    os.write(write_end, str(os.getpid()).encode())
                    time.sleep(1.0)
                    os.makedirs(os.path.dirname(marker), exist_ok=True)
                    with open(marker, "w") as file:
                        file.write("survived")
                    os._exit(0)
                os._exit(0)
            os.close(write_end)
            return int(os.read(read_end, 32))
    """)
    marker = tmp_path / "daemon" / "marker"
    daemon = box.call("call", name="summon", args=[str(marker)])
    assert Path(f"/proc/{daemon}").exists()
    box.close()
    assert not Path(f"/proc/{daemon}").exists(), "the daemon outlived close()"
    time.sleep(1.5)
    assert not marker.exists()


FORGER = """
    import os, stat
    def forge(then_exit):
        line = b'{"id": 1, "ok": true, "value": 8000, "audit": [], "tracer": []}\\n'
        for fd in range(3, 64):
            try:
                if stat.S_ISFIFO(os.fstat(fd).st_mode):
                    os.write(fd, b"0" * 64 + b" " + line)
            except OSError:
                pass
        if then_exit:
            os._exit(0)
        return 1
"""


@pytest.mark.parametrize("then_exit", [True, False], ids=["then-exits", "then-returns"])
def test_a_forged_reply_fails_the_call_and_is_tampering(sandbox_for, then_exit):
    box = sandbox_for(FORGER)
    with pytest.raises(ForgedReply, match="fake answer"):
        box.call("call", name="forge", args=[then_exit])
    assert any(finding.status == TAMPERED and "forged" in finding.evidence for finding in box.findings)


def test_a_reply_made_by_the_trusted_writer_then_exiting_fails_the_call(sandbox_for):
    box = sandbox_for("""
        import gc, os
        def steal():
            for thing in gc.get_objects():
                if callable(thing) and getattr(thing, "__qualname__", "") == "_writer.<locals>.reply":
                    thing({"id": 1, "ok": True, "value": 8000, "audit": [], "tracer": []})
                    os._exit(0)
            return "not found"
    """)
    # gc.get_objects() already failed the call, and the trusted loop never confirms the reply
    # the student made its writer send: it arrives out of turn.
    with pytest.raises(ForgedReply):
        box.call("call", name="steal")
    assert any(finding.status == TAMPERED for finding in box.findings)


def test_the_audit_hooks_events_become_findings(sandbox_for):
    box = sandbox_for("""
        import sys
        def answer():
            sys.settrace(None)
            return 1
    """)
    assert not box.findings
    with pytest.raises(StudentCodeError, match="TamperingDetected: .*sys.settrace"):
        box.call("call", name="answer")
    assert any(finding.status == TAMPERED and "settrace" in finding.evidence for finding in box.findings)


def test_a_race_check_whose_schedule_never_ran_fails(sandbox_for):
    box = sandbox_for("def answer():\n    return 1\n")
    with pytest.raises(RaceCheckNotWatching, match="^the race check could not watch your code"):
        box.call("race_check", seed=7)
    assert any(finding.status == TAMPERED for finding in box.findings)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawned_workers_let_the_probes_prepare(sandbox_for, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    box = sandbox_for("""
        import concurrent.futures, multiprocessing
        def prepared(_):
            import probes
            return getattr(probes, "IN_WORKER", False)
        def pool(method):
            context = multiprocessing.get_context(method)
            with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as executor:
                return list(executor.map(prepared, range(4)))
    """)
    assert box.call("call", name="pool", args=[method]) == [True] * 4


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawned_workers_are_audited_and_end_when_they_tamper(sandbox_for, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    box = sandbox_for("""
        import concurrent.futures, multiprocessing, sys
        def reach(_):
            import probes
            try:
                sys._getframe()  # what the audit hook reports as tampering
            except Exception:
                pass
            return "went on"
        def freeze(_):
            import threading
            try:
                threading.Event.wait = None
            except TypeError:
                return "refused"
            return "written"
        def pool(method, task):
            context = multiprocessing.get_context(method)
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as executor:
                try:
                    return executor.submit(globals()[task], 0).result()
                except concurrent.futures.process.BrokenProcessPool:
                    return "worker ended"
    """)
    assert box.call("call", name="pool", args=[method, "reach"]) == "worker ended"
    assert box.call("call", name="pool", args=[method, "freeze"]) == "refused"
    assert "a worker process was stopped" in box.output() and "sys._getframe" in box.output()


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process_pools_and_threads_work_when_confined(sandbox_for, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    box = sandbox_for("""
        import concurrent.futures, multiprocessing, os, tempfile
        def square(n):
            return n * n
        def run(method):
            context = multiprocessing.get_context(method)
            with context.Pool(2) as pool:
                pooled = pool.map(square, range(5))
            with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as executor:
                executed = list(executor.map(square, range(5)))
            with concurrent.futures.ThreadPoolExecutor(4) as executor:
                threaded = list(executor.map(square, range(5)))
            lock = context.Lock()  # a POSIX semaphore in /dev/shm
            with lock, tempfile.TemporaryDirectory() as folder:
                made = os.path.isdir(folder)
            return [pooled, executed, threaded, made, os.cpu_count()]
    """, start_method=method)
    squares = [0, 1, 4, 9, 16]
    assert box.call("call", name="run", args=[method]) == [squares, squares, squares, True, os.cpu_count()]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the grader does not run as root here")
def test_a_root_grader_leaves_the_child_without_privileges(sandbox_for):
    box = sandbox_for("""
        import os
        def become_someone_else():
            try:
                os.setuid(12345)
                return "became uid 12345"
            except OSError as error:
                return type(error).__name__
        def uid():
            return os.getuid()
    """)
    assert box.call("call", name="become_someone_else") == "PermissionError"
    plan = confine.privilege_plan(confine.python_installation())
    assert box.call("call", name="uid") == (0 if plan == "capabilities" else confine.unprivileged_ids()[0])


@pytest.fixture
def open_folder():
    """A folder every user may enter (pytest's tmp_path sits in a folder closed to others)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        folder.chmod(0o755)
        if not confine.readable_by(65534, 65534, str(folder)):
            pytest.skip(f"the temporary folder {tempfile.gettempdir()} is closed to other users")
        yield folder


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_readable_by_follows_every_folder_on_the_way(open_folder):
    nobody = (65534, 65534)
    folder = open_folder / "closed"
    folder.mkdir()
    inside = folder / "file.txt"
    inside.write_text("x")
    inside.chmod(0o644)
    folder.chmod(0o755)
    assert confine.readable_by(*nobody, str(inside))
    folder.chmod(0o700)
    assert not confine.readable_by(*nobody, str(inside))
    folder.chmod(0o755)
    inside.chmod(0o600)
    assert not confine.readable_by(*nobody, str(inside))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the grader does not run as root here")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="capabilities are Linux's")
def test_root_drops_to_nobody_only_where_nobody_can_read_python(open_folder):
    if confine.unprivileged_ids() is None:
        pytest.skip(f"no user {confine.UNPRIVILEGED_USER!r} on this machine")
    closed = open_folder / "closed"
    closed.mkdir(mode=0o700)
    assert confine.privilege_plan([str(open_folder)]) == "drop"
    assert confine.privilege_plan([str(open_folder), str(closed)]) == "capabilities"


def test_protections_in_force_says_what_holds_here():
    protections = confine.protections_in_force()
    assert set(protections) == {"landlock", "resource limits", "privilege drop", "process limit",
                                "process cleanup", "private folders", "socket filter", "signed replies"}
    landlock = protections["landlock"]
    assert landlock.startswith(confine.IN_FORCE) == (LANDLOCK >= 6)
    if LANDLOCK:
        assert f"ABI {LANDLOCK}" in landlock
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    assert protections["privilege drop"].startswith("not needed") == (not root)


# -- private shared folders -----------------------------------------------------------------------

LOOKER = """
    import os
    def exists(path):
        return os.path.exists(path)
    def write(path):
        try:
            with open(path, "w") as file:
                file.write("left behind")
            return "written"
        except OSError as error:
            return f"refused: {error.strerror}"
"""


@pytest.fixture
def host_files():
    """Factory: a file of this machine in a shared folder (removed afterwards)."""
    made: list[Path] = []

    def make(folder: str) -> Path:
        path = Path(folder, f"kit-test-{secrets.token_hex(6)}")
        path.write_text("the machine's")
        made.append(path)
        return path

    yield make
    for path in made:
        path.unlink(missing_ok=True)


@needs_linux
def test_the_report_says_truthfully_whether_the_shared_folders_are_private(sandbox_for, host_files):
    marker = host_files("/dev/shm")
    box = sandbox_for(LOOKER)
    private = confine.protections_in_force()["private folders"].startswith(confine.IN_FORCE)
    assert box.call("call", name="exists", args=[str(marker)]) is not private


@needs_private_folders
def test_what_the_sandbox_writes_in_shared_folders_stays_in_it(sandbox_for, host_files):
    markers = [host_files(folder) for folder in confine.SHARED_FOLDERS if os.path.isdir(folder)]
    box = sandbox_for(LOOKER)
    assert [box.call("call", name="exists", args=[str(marker)]) for marker in markers] == [False] * len(markers)
    name = f"kit-test-{secrets.token_hex(6)}"
    working_folder = Path(os.readlink(f"/proc/{box.pid}/cwd"))  # as this machine sees it
    written = {path: box.call("call", name="write", args=[path])
               for path in [f"/dev/shm/{name}", f"/tmp/{name}", f"/var/tmp/{name}", name]}
    assert written[f"/dev/shm/{name}"] == written[name] == "written"  # Landlock, if any, grants these two
    if LANDLOCK:
        assert written[f"/tmp/{name}"].startswith("refused") and written[f"/var/tmp/{name}"].startswith("refused")
    assert box.call("call", name="exists", args=[f"/dev/shm/{name}"])
    left = [path for path in (f"/dev/shm/{name}", f"/tmp/{name}", f"/var/tmp/{name}", str(working_folder / name))
            if os.path.exists(path)]
    box.close()
    assert not left, f"written in the sandbox, seen outside it: {left}"


@needs_linux
def test_without_private_folders_the_sandbox_shares_them_and_still_works(sandbox_for, host_files, monkeypatch):
    monkeypatch.setattr(confine, "private_folders_status", lambda: "not in force: switched off by this test")
    marker = host_files("/dev/shm")
    box = sandbox_for(LOOKER)
    assert box.call("call", name="exists", args=[str(marker)]) is True


USER_NAMESPACES = Path("/proc/sys/user/max_user_namespaces")
USER_NAMESPACE_SWITCHES = {"/proc/sys/kernel/unprivileged_userns_clone": "1",
                           "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "0"}


def unprivileged_user_namespaces() -> bool:
    """Whether the kernel lets a user without privileges create user namespaces."""
    if not USER_NAMESPACES.exists() or int(USER_NAMESPACES.read_text()) == 0:
        return False
    return all(not Path(path).exists() or Path(path).read_text().strip() == wanted
               for path, wanted in USER_NAMESPACE_SWITCHES.items())


AS_NOBODY = """
import ctypes, json, os, sys
from grader.harness import confine
scratch, marker, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
enter = confine.private_folders([scratch], scratch, 1 << 20)
os.setgroups([])
os.setresgid(gid, gid, gid)
os.setresuid(uid, uid, uid)
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: the change of user cleared it; a user's processes have it
enter()
with open("/dev/shm/" + os.path.basename(marker) + "-mine", "w") as file:
    file.write("mine")
print(json.dumps({"uid": os.getuid(), "sees_marker": os.path.exists(marker), "working_folder": os.listdir("."),
                  "scratch_owner": os.stat(scratch).st_uid}))
"""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root, to become another user")
@pytest.mark.skipif(not sys.platform.startswith("linux") or not unprivileged_user_namespaces(),
                    reason="the kernel gives users without privileges no user namespaces")
def test_a_grader_without_root_gets_private_folders_through_a_user_namespace(open_folder, host_files):
    """The path of a grader without root, taken by a process that drops to `nobody` first."""
    ids = confine.unprivileged_ids()
    if ids is None:
        pytest.skip(f"no user {confine.UNPRIVILEGED_USER!r} on this machine")
    scratch = open_folder / "scratch"
    (scratch / "work").mkdir(parents=True)
    for folder in (scratch, scratch / "work"):
        os.chown(folder, *ids)
    marker = host_files("/dev/shm")
    done = subprocess.run([sys.executable, "-c", AS_NOBODY, str(scratch), str(marker), *map(str, ids)],
                          capture_output=True, text=True, cwd=scratch / "work", timeout=60,
                          env={**os.environ, "PYTHONPATH": str(KIT_ROOT)})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {"uid": ids[0], "sees_marker": False, "working_folder": [], "scratch_owner": ids[0]}
    assert not Path(f"{marker}-mine").exists()


GRADER = """
import os, sys, time
from pathlib import Path
from grader.harness.sandbox import Sandbox
box = Sandbox(Path(sys.argv[1]), Path(sys.argv[2]))
box.start()
assert box.call("call", name="write", args=["written-in-the-sandbox.txt"]) == "written"
print(box.pid, os.readlink(f"/proc/{box.pid}/cwd"), flush=True)
time.sleep(60)
"""


def open_files(pid: int) -> list[str]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue  # closed meanwhile
    return found


@needs_private_folders
def test_a_killed_grader_leaves_nothing_of_the_sandbox_on_the_disk(tmp_path):
    (tmp_path / "submission.py").write_text(textwrap.dedent(LOOKER))
    (tmp_path / "probes.py").write_text(PROBES)
    (tmp_path / "tmp").mkdir()  # the killed grader's own temporary files (its staged runtime) land here
    command = [sys.executable, "-c", GRADER, str(tmp_path / "submission.py"), str(tmp_path / "probes.py")]
    grader = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(KIT_ROOT), "TMPDIR": str(tmp_path / "tmp")})
    try:
        started = grader.stdout.readline()
        assert started, "the grader could not start its sandbox"
        supervisor, working_folder = started.split()
        logs = [path for path in open_files(grader.pid) if os.path.basename(path).startswith("sandbox-")]
    finally:
        grader.kill()
        grader.wait()
    assert logs and all(path.endswith("(deleted)") for path in logs), logs
    assert not Path(working_folder).exists() and not Path(working_folder).parent.parent.exists()
    assert Path(working_folder).is_relative_to(tmp_path / "tmp")
    deadline = time.monotonic() + 10
    while alive(int(supervisor)) and time.monotonic() < deadline:
        time.sleep(0.05)  # it kills what is left of the sandbox once the grader's end closes its pipe
    assert not alive(int(supervisor)), "the sandbox outlived the grader"


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has ended; its new parent has yet to reap it
