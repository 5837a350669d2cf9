"""A real Neo4j Community server for the test suite, assembled from Maven Central.

``build()`` copies the dependency closure of ``org.neo4j:neo4j`` (pinned in
``tests/neo4j_maven/pom.xml``) with Maven, once, into
``${LABORGRAPH_CACHE:-~/.cache/laborgraph}/neo4j-<version>/lib``.
``start(workdir)`` writes a ``neo4j.conf`` for a throwaway loopback-only server
in *workdir*, launches ``org.neo4j.server.CommunityEntryPoint`` on Java 17 (or
21) as the official ``neo4j console`` launcher would, and waits until Bolt
answers. The first start also dumps a class-data-sharing archive into the cache
that makes later starts use about a third less CPU. Needs ``mvn`` (first build
only) and a JDK; stdlib only (the ``neo4j`` driver, if importable, is used for
the readiness check).

CLI: ``python -m tests.neo4j_server build | start --workdir DIR | stop --workdir DIR``.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

POM = Path(__file__).with_name("neo4j_maven") / "pom.xml"
VERSION = re.search(r"<neo4j\.version>([^<]+)<", POM.read_text()).group(1)  # type: ignore[union-attr]
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"  # what `neo4j console` runs
DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
SUPPORTED_JAVA = (17, 21)  # Neo4j 5.26 runs on nothing else
USER = "neo4j"
DEFAULT_PASSWORD = "laborgraph-test"  # Neo4j 5 wants >= 8 characters
PID_FILE = "neo4j.pid"
CONSOLE_LOG = "logs/console.log"

# The JVM flags Neo4j's launcher takes from its shipped neo4j.conf
# (server.jvm.additional), minus -XX:+AlwaysPreTouch (it commits the whole heap).
JVM_FLAGS = [
    "-Dfile.encoding=UTF-8",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Xlog:cds=off",  # the archive dump warns about ~1400 classes it skips
]


class Neo4jServerError(RuntimeError):
    """The server could not be built, started or stopped."""


def _log(msg: str) -> None:
    sys.stderr.write(f"[neo4j_server] {msg}\n")
    sys.stderr.flush()


def home_dir() -> Path:
    """Cache folder of this Neo4j version (outside the repo)."""
    cache = os.environ.get("LABORGRAPH_CACHE") or Path.home() / ".cache" / "laborgraph"
    return Path(cache).expanduser() / f"neo4j-{VERSION}"


def find_java() -> tuple[Path, str]:
    """(java binary, version) of a supported JDK: $JAVA_HOME, else Debian's JDK 17, else PATH."""
    candidates = [Path(os.environ["JAVA_HOME"]) / "bin" / "java"] if os.environ.get("JAVA_HOME") else []
    candidates.append(DEFAULT_JAVA_HOME / "bin" / "java")
    if found := shutil.which("java"):
        candidates.append(Path(found))
    for java in candidates:
        if not java.is_file():
            continue
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
        match = re.search(r'version "((\d+)[^"]*)"', out)
        if match and int(match.group(2)) in SUPPORTED_JAVA:
            return java, match.group(1)
        _log(f"ignoring {java}: not Java 17 or 21 ({out.splitlines()[:1]})")
    raise Neo4jServerError(
        f"Neo4j {VERSION} needs Java 17 or 21; none found"
        " (set JAVA_HOME, or apt-get install openjdk-17-jdk-headless)"
    )


def build() -> Path:
    """Fill (once) and return the lib folder holding the server's jars."""
    home = home_dir()
    lib, marker = home / "lib", home / ".complete"
    stamp = POM.read_text()
    if marker.is_file() and marker.read_text() == stamp and lib.is_dir():
        return lib
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel build waits, then finds it done
        if marker.is_file() and marker.read_text() == stamp and lib.is_dir():
            return lib
        mvn = shutil.which("mvn")
        if not mvn:
            raise Neo4jServerError("Maven (mvn) not found: apt-get install maven")
        java, _ = find_java()
        marker.unlink(missing_ok=True)
        for stale in home.glob("cds-*.jsa"):  # archives are tied to the jars they were made from
            stale.unlink()
        partial = home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        _log(f"assembling Neo4j {VERSION} from Maven Central into {lib} (a minute or more)")
        started = time.monotonic()
        cmd = [
            mvn,
            "-B",
            "-q",
            "-Dstyle.color=never",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ]
        env = {**os.environ, "JAVA_HOME": str(java.resolve().parent.parent)}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0 or not (partial / f"neo4j-{VERSION}.jar").is_file():
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
            raise Neo4jServerError(f"mvn failed (exit {done.returncode}):\n{tail}")
        shutil.rmtree(lib, ignore_errors=True)
        partial.rename(lib)
        marker.write_text(stamp)  # only now is the build complete
        _log(f"{len(list(lib.glob('*.jar')))} jars in {time.monotonic() - started:.0f} s")
    return lib


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_conf(workdir: Path, port: int, lib: Path, *, auth: bool, heap: str, pagecache: str) -> Path:
    conf = workdir / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    settings = {
        **{f"server.directories.{d}": workdir / d for d in ("data", "logs", "run", "import", "plugins")},
        "server.directories.lib": lib,  # read by neo4j-admin
        "server.default_listen_address": "127.0.0.1",
        "server.default_advertised_address": "127.0.0.1",
        "server.bolt.enabled": "true",
        "server.bolt.listen_address": f"127.0.0.1:{port}",
        "server.bolt.advertised_address": f"127.0.0.1:{port}",
        "server.http.enabled": "false",
        "server.https.enabled": "false",
        "dbms.security.auth_enabled": str(auth).lower(),
        "dbms.usage_report.enabled": "false",
        "server.memory.heap.initial_size": heap,
        "server.memory.heap.max_size": heap,
        "server.memory.pagecache.size": pagecache,
        "db.tx_log.preallocate": "false",  # else 256 MiB of tx log per database
        "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",  # else stopping takes 10 s
    }
    path = conf / "neo4j.conf"
    path.write_text(
        "# generated by tests/neo4j_server.py on every start\n"
        + "".join(f"{k}={v}\n" for k, v in settings.items())
    )
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _is_our_server(pid: int, workdir: Path) -> bool:
    cmdline = _cmdline(pid)
    return ENTRY_POINT in cmdline and f"--home-dir={workdir}\0" in cmdline


def _terminate(pid: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    """SIGTERM the process group, SIGKILL it after *timeout* s; True if SIGTERM sufficed."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        if proc is not None:
            try:
                proc.wait(timeout)
                return sig == signal.SIGTERM
            except subprocess.TimeoutExpired:
                continue
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _alive(pid):
            return sig == signal.SIGTERM
    if proc is not None:
        proc.wait()
    return False


def _stop(workdir: Path, pid: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    if "-XX:ArchiveClassesAtExit=" in _cmdline(pid):
        # Writing the ~110 MB archive at exit takes 15-25 s on a busy 2-core machine.
        timeout = max(timeout, 90.0)
    graceful = _terminate(pid, proc, timeout)
    (workdir / PID_FILE).unlink(missing_ok=True)
    for dumped in (workdir / "run").glob("cds-*.jsa"):  # written by the JVM as it exits
        target = home_dir() / dumped.name
        if graceful and not target.exists():
            tmp = target.with_name(f"{target.name}.{os.getpid()}.{pid}.tmp")
            shutil.copyfile(dumped, tmp)
            os.replace(tmp, target)
        dumped.unlink()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no console log)"


@dataclass
class RunningNeo4j:
    uri: str
    pid: int
    workdir: Path
    password: str | None = None  # None: auth disabled
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def auth(self) -> tuple[str, str] | None:
        """For ``GraphDatabase.driver(uri, auth=...)``."""
        return (USER, self.password) if self.password is not None else None

    def stop(self, timeout: float = 20.0) -> None:
        _stop(self.workdir, self.pid, self._proc, timeout)

    def __enter__(self) -> RunningNeo4j:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _answers(uri: str, auth: tuple[str, str] | None) -> bool:
    host, port = uri.rsplit("/", 1)[1].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    try:
        from neo4j import GraphDatabase
    except ImportError:
        return True  # the TCP probe has to do
    try:
        with GraphDatabase.driver(uri, auth=auth, connection_timeout=2) as driver:
            driver.verify_connectivity()
            with driver.session() as session:  # the default database is online too
                session.run("RETURN 1").consume()
        return True
    except Exception:
        return False


def start(
    workdir: Path,
    *,
    password: str | None = DEFAULT_PASSWORD,
    heap: str = "512m",
    pagecache: str = "256m",
    quick_jit: bool = True,
    timeout: float = 120.0,
) -> RunningNeo4j:
    """Start a server whose conf, data and logs live in *workdir*; return once Bolt answers.

    With a *password* auth is on (user ``neo4j``); ``neo4j-admin dbms
    set-initial-password`` sets it before the first start of a fresh workdir.
    ``password=None`` turns auth off. ``quick_jit`` (C1 JIT compiler only) cuts the
    CPU a start needs by ~40% and was no slower on test-sized queries here; pass
    False for long benchmarks, where the full JIT may win in the end.
    """
    workdir = Path(workdir).resolve()
    pid_file = workdir / PID_FILE
    if pid_file.is_file() and _is_our_server(int(pid_file.read_text()), workdir):
        raise Neo4jServerError(f"a server is already running in {workdir} (pid {pid_file.read_text()})")
    lib = build()
    java, java_version = find_java()
    port = free_port()
    conf = write_conf(workdir, port, lib, auth=password is not None, heap=heap, pagecache=pagecache)
    for d in ("logs", "run"):
        (workdir / d).mkdir(exist_ok=True)
    classpath = str(lib / "*")
    archive = home_dir() / f"cds-{java_version}.jsa"
    cds = [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []
    if password is not None and not (workdir / "data" / "databases").exists():
        env = {**os.environ, "NEO4J_HOME": str(workdir), "NEO4J_CONF": str(conf.parent)}
        admin = [
            str(java),
            "-cp",
            classpath,
            *cds,
            "-Xlog:cds=off",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "org.neo4j.server.startup.Neo4jAdminCommand",
            "dbms",
            "set-initial-password",
            password,
        ]
        done = subprocess.run(admin, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise Neo4jServerError(f"set-initial-password failed:\n{done.stdout}{done.stderr}")
    cmd = [
        str(java),
        "-cp",
        classpath,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        *JVM_FLAGS,
        *(cds or [f"-XX:ArchiveClassesAtExit={workdir / 'run' / archive.name}"]),  # _stop adopts it
        *(["-XX:TieredStopAtLevel=1"] if quick_jit else []),
        ENTRY_POINT,
        f"--home-dir={workdir}",
        f"--config-dir={conf.parent}",
        "--console-mode",
    ]
    console = workdir / CONSOLE_LOG
    started = time.monotonic()
    with open(console, "wb") as out:  # fresh per start, so its tail is about this run
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))
    server = RunningNeo4j(f"bolt://127.0.0.1:{port}", proc.pid, workdir, password, proc)
    while True:
        if proc.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise Neo4jServerError(f"Neo4j exited with {proc.returncode}; {console}:\n{_tail(console)}")
        if _answers(server.uri, server.auth):
            _log(
                f"Neo4j {VERSION} ready at {server.uri} in {time.monotonic() - started:.1f} s"
                f" (pid {proc.pid})"
            )
            return server
        if time.monotonic() - started > timeout:
            tail = _tail(console)
            server.stop()
            raise Neo4jServerError(f"Neo4j not ready after {timeout:.0f} s; {console}:\n{tail}")
        time.sleep(0.25)


def stop(workdir: Path, timeout: float = 20.0) -> bool:
    """Stop the server started in *workdir* (e.g. by the CLI); False if none was running."""
    workdir = Path(workdir).resolve()
    pid_file = workdir / PID_FILE
    if not pid_file.is_file():
        return False
    pid = int(pid_file.read_text())
    if not _is_our_server(pid, workdir):
        pid_file.unlink()
        return False
    _stop(workdir, pid, None, timeout)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.neo4j_server", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="assemble the lib folder; print its path")
    for name in ("start", "stop"):
        cmd = sub.add_parser(name, help=f"{name} a server in --workdir")
        cmd.add_argument("--workdir", type=Path, required=True)
    sub.choices["start"].add_argument("--password", default=DEFAULT_PASSWORD, help="of user neo4j")
    sub.choices["start"].add_argument("--no-auth", action="store_true", help="disable authentication")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build())
        elif args.command == "start":
            print(start(args.workdir, password=None if args.no_auth else args.password).uri)
        elif not stop(args.workdir):
            _log(f"no server running in {args.workdir}")
    except Neo4jServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
