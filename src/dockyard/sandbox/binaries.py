"""Build the sandbox's binaries from the Go module proxy and cache them by version.

Contract: :func:`ensure_binaries` returns the paths of every pinned binary, building only what is
missing from the cache. A build goes into a temporary directory that is renamed into place only when
every binary of its unit was built, so an interrupted build never leaves a half-filled cache entry.
A rebuild happens only when a pinned version changes (the version is part of the cache path).

Kubernetes cannot be ``go install``-ed (its go.mod replaces the staging modules with local paths), so
it is built from a small wrapper module that requires ``k8s.io/kubernetes`` and replaces every staging
module with its published ``v0.Y.Z``; etcd is built from a three-line ``etcdmain`` wrapper.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dockyard.sandbox.errors import BuildError, ToolchainError

KUBERNETES_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.5"
KWOK_VERSION = "v0.8.0"
METRICS_SERVER_VERSION = "v0.9.0"
COREDNS_VERSION = "v1.14.7"
# The newest tag the proxy here serves (v1.34.0 and v1.36.0; v1.35.x are refused); its go.mod asks
# for Go 1.26.5 and has no replace, so `go install` builds it with the machine's Go.
NODE_PROBLEM_DETECTOR_VERSION = "v1.36.0"
VICTORIALOGS_VERSION = "v1.52.2"

MIN_GO = (1, 26, 4)  # metrics-server v0.9.0's go.mod; kwok v0.8.0 needs 1.26.0
KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
# A real node's programs: built as a unit of their own so a cache from before real nodes stays valid.
KUBE_NODE_COMMANDS = ("kubelet", "kube-proxy")
# KWOK v0.8 loads no default stages; these files ship in its module (under kustomize/).
KWOK_CONFIGS = (
    "stage/node/fast/node-initialize.yaml",
    "stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "stage/pod/fast/pod-ready.yaml",
    "stage/pod/fast/pod-complete.yaml",
    "stage/pod/fast/pod-delete.yaml",
    "metrics/resource/metrics-resource.yaml",
    "metrics/usage/usage-from-annotation.yaml",
)
_LOG_TAIL_LINES = 25

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Binaries:
    """Absolute paths of the sandbox's executables and KWOK's configuration files."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path
    kwok: Path
    metrics_server: Path
    kwok_configs: tuple[Path, ...]
    kubelet: Path
    kube_proxy: Path
    coredns: Path
    node_problem_detector: Path
    victoria_logs: Path

    @classmethod
    def unbuilt(cls) -> Binaries:
        """Placeholder paths, for code that needs component names and ports but runs nothing."""
        p = Path("/nonexistent")
        return cls(p, p, p, p, p, p, p, (), p, p, p, p, p)


def cache_root() -> Path:
    """Where binaries and build trees live: ``$DOCKYARD_CACHE`` or ``~/.cache/dockyard``."""
    return Path(os.environ.get("DOCKYARD_CACHE", Path.home() / ".cache" / "dockyard"))


def ensure_binaries(*, progress: Progress | None = None) -> Binaries:
    """Return the pinned binaries, building the missing ones (may take 10–25 minutes cold).

    Raises :class:`ToolchainError` when no usable Go is found and :class:`BuildError`, carrying the
    tail of the build log, when a build fails.
    """
    say = progress or (lambda _msg: None)
    root = cache_root()
    dirs = {unit: _ensure_unit(root, unit, version, build, say) for unit, version, build in _units()}
    return _binaries(dirs)


def ensure_victoria_logs(*, progress: Progress | None = None) -> Path:
    """The log store's binary alone (for benchmarks that need no cluster), built if missing."""
    unit = _ensure_unit(cache_root(), "victoria-logs", VICTORIALOGS_VERSION, _build_victoria_logs, progress or print)
    return unit / "victoria-logs"


def cached_binaries() -> Binaries | None:
    """The pinned binaries if all are already built, else ``None``; never builds."""
    dirs = {unit: cache_root() / "bin" / f"{unit}-{version}" for unit, version, _ in _units()}
    if not all((d / ".complete").exists() for d in dirs.values()):
        return None
    return _binaries(dirs)


def _units() -> list[tuple[str, str, Callable[[Path, Path, Path], None]]]:
    return [
        ("etcd", ETCD_VERSION, _build_etcd),
        ("kwok", KWOK_VERSION, _build_kwok),
        ("metrics-server", METRICS_SERVER_VERSION, _build_metrics_server),
        ("kubernetes", KUBERNETES_VERSION, _build_kubernetes),
        ("kubernetes-node", KUBERNETES_VERSION, _build_kubernetes_node),
        ("coredns", COREDNS_VERSION, _build_coredns),
        # Its own unit: a cache from before it stays valid, and only real nodes run it.
        ("node-problem-detector", NODE_PROBLEM_DETECTOR_VERSION, _build_node_problem_detector),
        ("victoria-logs", VICTORIALOGS_VERSION, _build_victoria_logs),
    ]


def _binaries(dirs: dict[str, Path]) -> Binaries:
    kube, kwok_dir, node = dirs["kubernetes"], dirs["kwok"], dirs["kubernetes-node"]
    return Binaries(
        etcd=dirs["etcd"] / "etcd",
        kube_apiserver=kube / "kube-apiserver",
        kube_controller_manager=kube / "kube-controller-manager",
        kube_scheduler=kube / "kube-scheduler",
        kubectl=kube / "kubectl",
        kwok=kwok_dir / "kwok",
        metrics_server=dirs["metrics-server"] / "metrics-server",
        kwok_configs=tuple(sorted((kwok_dir / "configs").glob("*.yaml"))),
        kubelet=node / "kubelet",
        kube_proxy=node / "kube-proxy",
        coredns=dirs["coredns"] / "coredns",
        node_problem_detector=dirs["node-problem-detector"] / "node-problem-detector",
        victoria_logs=dirs["victoria-logs"] / "victoria-logs",
    )


def _ensure_unit(
    root: Path,
    unit: str,
    version: str,
    build: Callable[[Path, Path, Path], None],
    say: Progress,
) -> Path:
    final = root / "bin" / f"{unit}-{version}"
    if (final / ".complete").exists():
        return final
    go = find_go()
    (root / "bin").mkdir(parents=True, exist_ok=True)
    (root / "build").mkdir(parents=True, exist_ok=True)
    with (root / "build" / f"{unit}.lock").open("w") as lock:
        # Two `sandbox up` at once: the second waits here, then finds the first one's result.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (final / ".complete").exists():
            return final
        for stale in (root / "bin").glob(f".{unit}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        log = root / "build" / f"{unit}-{version}.log"
        say(f"building {unit} {version} from the Go module proxy (log: {log})")
        work = root / "build" / f"{unit}-{version}"
        work.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        staging = Path(tempfile.mkdtemp(prefix=f".{unit}-", dir=root / "bin"))
        staging.chmod(0o755)
        try:
            try:
                build(go, work, staging)
            except (OSError, KeyError) as e:
                raise BuildError(f"building {unit} {version} failed: {type(e).__name__}: {e}; log: {log}") from e
            (staging / ".complete").write_text(version + "\n")
            if final.exists():
                shutil.rmtree(final)
            staging.rename(final)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return final


def find_go() -> Path:
    """The Go toolchain on PATH (or ``$GOROOT/bin``); raises :class:`ToolchainError` if absent."""
    found = shutil.which("go")
    if found is None and os.environ.get("GOROOT"):
        candidate = Path(os.environ["GOROOT"]) / "bin" / "go"
        found = str(candidate) if candidate.exists() else None
    if found is None:
        raise ToolchainError(
            f"no Go toolchain found: install Go {_version_text(MIN_GO)} or newer and put `go` on PATH "
            "(the sandbox builds etcd, Kubernetes, kwok and metrics-server from the Go module proxy)"
        )
    result = subprocess.run([found, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    version = parse_go_version(result.stdout.strip())
    if result.returncode != 0 or version is None:
        raise ToolchainError(f"`{found} env GOVERSION` failed: {(result.stderr or result.stdout).strip()[:200]}")
    if version < MIN_GO:
        raise ToolchainError(
            f"Go {_version_text(version)} at {found} is too old: the pinned modules need Go {_version_text(MIN_GO)}"
        )
    return Path(found)


def parse_go_version(text: str) -> tuple[int, int, int] | None:
    """``go1.26.8`` → ``(1, 26, 8)``; ``go1.26`` → ``(1, 26, 0)``; anything else → None."""
    match = re.fullmatch(r"go(\d+)\.(\d+)(?:\.(\d+))?(?:\S*)", text)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def _version_text(version: tuple[int, int, int]) -> str:
    return ".".join(str(v) for v in version)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    env.setdefault("GOPATH", str(Path.home() / "go"))
    return env


def _run(args: list[str], *, cwd: Path, log: Path, env: dict[str, str]) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        result = subprocess.run(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-_LOG_TAIL_LINES:]
        raise BuildError(
            f"`{' '.join(args[:3])} ...` failed (exit {result.returncode}); log: {log}",
            log_tail="\n".join(tail),
        )


def _log_for(work: Path) -> Path:
    return work.parent / f"{work.name}.log"


def _module_info(go: Path, module: str, work: Path) -> dict[str, str]:
    env = _go_env()
    result = subprocess.run(
        [str(go), "mod", "download", "-json", module],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        info: dict[str, str] = json.loads(result.stdout)
    except json.JSONDecodeError as e:
        raise BuildError(f"cannot download {module}", log_tail=result.stderr[-2000:]) from e
    if "Error" in info:
        raise BuildError(f"cannot download {module}", log_tail=info["Error"])
    return info


def staging_modules(go_mod_text: str) -> list[str]:
    """Module paths that a Kubernetes go.mod replaces with ``./staging/...`` directories."""
    return sorted(set(re.findall(r"^\s*(\S+)\s+=>\s+\./staging/", go_mod_text, re.MULTILINE)))


def kubernetes_wrapper_go_mod(version: str, go_mod_text: str, commands: tuple[str, ...] = KUBE_COMMANDS) -> str:
    """The wrapper module's go.mod for building ``commands`` of Kubernetes ``version`` (``vX.Y.Z``)."""
    staging_version = "v0." + version.removeprefix("v").split(".", 1)[1]
    go_line = re.search(r"^go (\S+)$", go_mod_text, re.MULTILINE)
    godebug = re.search(r"^godebug .+$", go_mod_text, re.MULTILINE)
    lines = ["module dockyard.local/sandbox/kubernetes", ""]
    lines.append(f"go {go_line.group(1) if go_line else '1.25.0'}")
    if godebug:
        lines.append(godebug.group(0))
    lines += ["", f"require k8s.io/kubernetes {version}", ""]
    lines += [f"replace {m} => {m} {staging_version}" for m in staging_modules(go_mod_text)]
    lines += ["", "tool ("]
    lines += [f"\tk8s.io/kubernetes/cmd/{cmd}" for cmd in commands]
    lines += [")", ""]
    return "\n".join(lines)


def _build_kubernetes(go: Path, work: Path, out: Path) -> None:
    _build_kube_commands(go, work, out, KUBE_COMMANDS)


def _build_kubernetes_node(go: Path, work: Path, out: Path) -> None:
    _build_kube_commands(go, work, out, KUBE_NODE_COMMANDS)


def _build_kube_commands(go: Path, work: Path, out: Path, commands: tuple[str, ...]) -> None:
    log = _log_for(work)
    env = _go_env()
    info = _module_info(go, f"k8s.io/kubernetes@{KUBERNETES_VERSION}", work)
    upstream = Path(info["GoMod"]).read_text()
    (work / "go.mod").write_text(kubernetes_wrapper_go_mod(KUBERNETES_VERSION, upstream, commands))
    (work / "go.sum").unlink(missing_ok=True)
    _run([str(go), "mod", "tidy"], cwd=work, log=log, env=env)
    major, minor = KUBERNETES_VERSION.removeprefix("v").split(".")[:2]
    ldflags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        ldflags += [
            f"-X {pkg}.gitVersion={KUBERNETES_VERSION}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
        ]
    args = [str(go), "build", "-trimpath", "-tags", "selinux,notest"]
    args += ["-ldflags", " ".join(ldflags), "-o", str(out) + "/"]
    args += [f"k8s.io/kubernetes/cmd/{cmd}" for cmd in commands]
    _run(args, cwd=work, log=log, env=env)


_ETCD_MAIN = """package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def _build_etcd(go: Path, work: Path, out: Path) -> None:
    log = _log_for(work)
    env = _go_env()
    (work / "go.mod").write_text(
        f"module dockyard.local/sandbox/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 {ETCD_VERSION}\n"
    )
    (work / "go.sum").unlink(missing_ok=True)
    (work / "main.go").write_text(_ETCD_MAIN)
    _run([str(go), "mod", "tidy"], cwd=work, log=log, env=env)
    ldflags = f"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA={ETCD_VERSION}"
    _run(
        [str(go), "build", "-trimpath", "-ldflags", ldflags, "-o", str(out / "etcd"), "."],
        cwd=work,
        log=log,
        env=env,
    )


def _go_install(go: Path, work: Path, out: Path, package: str) -> None:
    env = _go_env()
    env["GOBIN"] = str(out)
    env.pop("GOFLAGS", None)
    _run([str(go), "install", "-trimpath", "-ldflags", "-s -w", package], cwd=work, log=_log_for(work), env=env)


def _build_kwok(go: Path, work: Path, out: Path) -> None:
    _go_install(go, work, out, f"sigs.k8s.io/kwok/cmd/kwok@{KWOK_VERSION}")
    info = _module_info(go, f"sigs.k8s.io/kwok@{KWOK_VERSION}", work)
    configs = out / "configs"
    configs.mkdir()
    for rel in KWOK_CONFIGS:
        source = Path(info["Dir"]) / "kustomize" / rel
        shutil.copyfile(source, configs / Path(rel).name)


def _build_metrics_server(go: Path, work: Path, out: Path) -> None:
    _go_install(go, work, out, f"sigs.k8s.io/metrics-server/cmd/metrics-server@{METRICS_SERVER_VERSION}")


def _build_coredns(go: Path, work: Path, out: Path) -> None:
    # CoreDNS' main package is its module root and its go.mod has no replace: `go install` works.
    _go_install(go, work, out, f"github.com/coredns/coredns@{COREDNS_VERSION}")


def _build_node_problem_detector(go: Path, work: Path, out: Path) -> None:
    # Not `go install …@version`: that also reads the module's version list (for deprecations), which
    # the proxy here refuses for this module. A wrapper module requiring the exact version needs no
    # list. Without the `journald` build tag the journald plugin (cgo, libsystemd) is left out; the
    # sandbox uses the `filelog` plugin.
    log = _log_for(work)
    env = _go_env()
    (work / "go.mod").write_text(
        "module dockyard.local/sandbox/node-problem-detector\n\ngo 1.26.5\n\n"
        f"require k8s.io/node-problem-detector {NODE_PROBLEM_DETECTOR_VERSION}\n\n"
        f"tool {_NPD_PACKAGE}\n"
    )
    (work / "go.sum").unlink(missing_ok=True)
    _run([str(go), "mod", "tidy"], cwd=work, log=log, env=env)
    ldflags = f"-s -w -X k8s.io/node-problem-detector/pkg/version.version={NODE_PROBLEM_DETECTOR_VERSION}"
    _run(
        [str(go), "build", "-trimpath", "-ldflags", ldflags, "-o", str(out / "node-problem-detector"), _NPD_PACKAGE],
        cwd=work,
        log=log,
        env=env,
    )


_NPD_PACKAGE = "k8s.io/node-problem-detector/cmd/nodeproblemdetector"


def _build_victoria_logs(go: Path, work: Path, out: Path) -> None:
    # The log store (docs/logs.md); its go.mod has no replace, so `go install` of the app works.
    _go_install(go, work, out, f"github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@{VICTORIALOGS_VERSION}")
