"""What a real node changes on the host outside the sandbox directory, recorded and put back.

The kubelet, kube-proxy, containerd and the CNI bridge plugin change host-wide things: sysctls, iptables
chains (v4 and v6), cgroups, a bind mount, the bridge and veths, two directories at hard-coded paths.
:func:`record` notes their state before the first real node starts (:class:`HostRecord`, kept in the
sandbox directory); the cleaners below undo only what differs from that record and belongs to the
sandbox (chains named ``KUBE-*``/``CNI-*`` that were not there, mounts under the sandbox directory,
links it named, cgroups under its cgroup root). The parsing is pure; the rest runs commands.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Every sysctl the kubelet (protectKernelDefaults: false), kube-proxy or the bridge plugin may set.
SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.ipv4.conf.all.route_localnet",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
)
# Directories the kubelet makes at fixed paths, whatever its --root-dir.
KUBELET_HOST_DIRS = (Path("/var/lib/kubelet"), Path("/var/log/containers"))
OWN_CHAIN_PREFIXES = ("KUBE-", "CNI-")
IPTABLES = {"ipv4": ("iptables-save", "iptables-restore"), "ipv6": ("ip6tables-save", "ip6tables-restore")}
_BUILTIN_CHAINS = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}


@dataclass(frozen=True)
class HostRecord:
    """The host before the first real node: sysctl values, which kubelet directories existed, and the
    iptables chains per family and table."""

    sysctls: dict[str, str]
    existing_dirs: list[str]
    chains: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    nft_tables: list[str] = field(default_factory=list)  # "ip filter", ... (only where `nft` is installed)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HostRecord:
        data = json.loads(text)
        return cls(
            sysctls=dict(data["sysctls"]),
            existing_dirs=list(data["existing_dirs"]),
            chains=data["chains"],
            nft_tables=list(data.get("nft_tables", [])),
        )


def record() -> HostRecord:
    """The host as it is now."""
    sysctls = {name: value for name in SYSCTLS if (value := read_sysctl(name)) is not None}
    existing = [str(d) for d in KUBELET_HOST_DIRS if d.exists()]
    chains = {family: chains_by_table(iptables_save(family)) for family in IPTABLES}
    return HostRecord(sysctls=sysctls, existing_dirs=existing, chains=chains, nft_tables=nft_tables())


def nft_tables() -> list[str]:
    """``nft list tables`` as ``["ip filter", ...]``; empty without ``nft``."""
    if shutil.which("nft") is None:
        return []
    done = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=30, check=False)
    return [line.removeprefix("table ").strip() for line in done.stdout.splitlines() if line.startswith("table ")]


def remove_empty_new_tables(before: list[str]) -> list[str]:
    """With ``nft``: delete the iptables-nft tables made since ``before`` that hold no rule any more
    (without it they stay, empty, with ACCEPT policies); returns those deleted."""
    deleted = []
    for table in nft_tables():
        if table in before or table.split()[-1] not in ("filter", "nat", "mangle", "raw", "security"):
            continue
        listed = subprocess.run(["nft", "list", "table", *table.split()], capture_output=True, text=True, check=False)
        if any(
            line.strip() and not line.strip().startswith(("table", "chain", "type", "}"))
            for line in listed.stdout.splitlines()
        ):
            continue  # a rule is left: not ours to drop
        if subprocess.run(["nft", "delete", "table", *table.split()], capture_output=True, check=False).returncode == 0:
            deleted.append(table)
    return deleted


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def read_sysctl(name: str) -> str | None:
    try:
        return _sysctl_path(name).read_text().strip()
    except OSError:
        return None


def restore_sysctls(recorded: dict[str, str]) -> list[str]:
    """Write back every recorded value that changed; returns the names that were changed back."""
    changed = []
    for name, value in recorded.items():
        if read_sysctl(name) not in (None, value):
            with contextlib.suppress(OSError):
                _sysctl_path(name).write_text(value + "\n")
                changed.append(name)
    return changed


def iptables_save(family: str) -> str:
    """``iptables-save`` (or ``ip6tables-save``) output; empty when the command is missing or fails."""
    try:
        done = subprocess.run([IPTABLES[family][0]], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return ""
    return done.stdout if done.returncode == 0 else ""


def chains_by_table(saved: str) -> dict[str, list[str]]:
    """The chains ``iptables-save`` output declares, per table."""
    out: dict[str, list[str]] = {}
    table = ""
    for line in saved.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            out.setdefault(table, [])
        elif line.startswith(":") and table:
            out[table].append(line[1:].split()[0])
    return out


def cleanup_script(saved: str, before: dict[str, list[str]]) -> dict[str, str]:
    """Per table, an ``iptables-restore --noflush`` script that deletes the chains named ``KUBE-*`` or
    ``CNI-*`` that are not in ``before`` and every rule in or jumping to one of them (pure)."""
    scripts: dict[str, str] = {}
    table = ""
    rules: dict[str, list[tuple[str, list[str], str]]] = {}
    declared: dict[str, list[str]] = {}
    for line in saved.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            rules.setdefault(table, [])
            declared.setdefault(table, [])
        elif line.startswith(":") and table:
            declared[table].append(line[1:].split()[0])
        elif line.startswith("-A ") and table:
            args = shlex.split(line)
            rules[table].append((args[1], args[2:], line))
    for name, chains in declared.items():
        old = set(before.get(name, []))
        ours = [c for c in chains if c.startswith(OWN_CHAIN_PREFIXES) and c not in old]
        if not ours:
            continue
        mine = set(ours)
        lines = [f"*{name}"]
        for chain, spec, line in rules.get(name, []):
            if chain in mine:
                continue  # flushed below
            if _target(spec) in mine:
                lines.append("-D" + line[2:])  # iptables-restore reads the rule as iptables-save wrote it
        lines += [f"-F {c}" for c in ours] + [f"-X {c}" for c in ours] + ["COMMIT", ""]
        scripts[name] = "\n".join(lines)
    return scripts


def _target(spec: list[str]) -> str:
    for flag in ("-j", "-g"):
        if flag in spec and spec.index(flag) + 1 < len(spec):
            return spec[spec.index(flag) + 1]
    return ""


def remove_own_chains(before: dict[str, dict[str, list[str]]]) -> list[str]:
    """Delete the chains (and the rules jumping to them) made since ``before``, v4 and v6; returns
    ``family/table`` of each table cleaned."""
    cleaned = []
    for family, (_save, restore) in IPTABLES.items():
        for table, script in cleanup_script(iptables_save(family), before.get(family, {})).items():
            done = subprocess.run(
                [restore, "--noflush"], input=script, capture_output=True, text=True, timeout=30, check=False
            )
            if done.returncode != 0:
                raise OSError(f"{restore} could not clean table {table}: {done.stderr.strip()}")
            cleaned.append(f"{family}/{table}")
    return cleaned


def normalized_rules(saved: str) -> list[str]:
    """``iptables-save`` output without comments, counters and empty built-in chains (what a table
    emptied again looks like next to one never made): for comparing the host before and after."""
    out: list[str] = []
    table_lines: list[str] = []
    for line in saved.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("*"):
            table_lines = [line]
        elif line == "COMMIT":
            if any(
                not (t.startswith(":") and t[1:].split()[0] in _BUILTIN_CHAINS and " ACCEPT " in t)
                for t in table_lines[1:]
            ):
                out += [t.split(" [")[0] if t.startswith(":") else t for t in table_lines] + ["COMMIT"]
            table_lines = []
        else:
            table_lines.append(line)
    return out


def mounts_under(root: Path) -> list[Path]:
    """Mount points at or below ``root``, deepest first (from /proc/self/mountinfo)."""
    found = []
    prefix = str(root).rstrip("/") + "/"
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == str(root) or point.startswith(prefix):
            found.append(Path(point))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def unmount_all(root: Path) -> list[Path]:
    """Unmount everything at or below ``root`` (lazily when busy); returns what was unmounted."""
    done = []
    for _ in range(5):  # stacked mounts on one path come off one at a time
        points = mounts_under(root)
        if not points:
            break
        for point in points:
            if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode != 0:
                subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
            done.append(point)
    return done


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def delete_bridge(name: str) -> list[str]:
    """Delete the veths attached to bridge ``name``, then the bridge; returns the links deleted."""
    deleted = []
    brif = Path("/sys/class/net", name, "brif")
    ports = sorted(p.name for p in brif.iterdir()) if brif.is_dir() else []
    for link in [*ports, name]:
        if (
            link_exists(link)
            and subprocess.run(["ip", "link", "del", link], capture_output=True, check=False).returncode == 0
        ):
            deleted.append(link)
    return deleted


def cgroup_hierarchies() -> list[Path]:
    """The mounted cgroup hierarchies (v1 controllers, named ones and the v2 ``unified``)."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        parts = line.split()
        fstype = parts[parts.index("-") + 1]
        if fstype in ("cgroup", "cgroup2"):
            out.append(Path(parts[4]))
    return out


def make_cgroup(name: str) -> None:
    """Create ``/<name>`` in every hierarchy (the kubelet refuses a cgroup root that does not exist);
    a new cpuset gets its parent's CPUs and memory nodes, without which nothing could join it."""
    for hierarchy in cgroup_hierarchies():
        path = hierarchy / name
        path.mkdir(exist_ok=True)
        for knob in ("cpuset.cpus", "cpuset.mems"):
            if (path / knob).exists() and not (path / knob).read_text().strip():
                (path / knob).write_text((hierarchy / knob).read_text())


def cgroup_pids(name: str) -> set[int]:
    """Every pid in ``/<name>`` and below, in any hierarchy."""
    pids: set[int] = set()
    for hierarchy in cgroup_hierarchies():
        for procs in (hierarchy / name).rglob("cgroup.procs") if (hierarchy / name).is_dir() else ():
            with contextlib.suppress(OSError, ValueError):
                pids |= {int(p) for p in procs.read_text().split()}
    return pids


def remove_cgroup(name: str) -> list[Path]:
    """Remove ``/<name>`` and its children (deepest first) in every hierarchy; returns those left
    (still holding a process)."""
    left = []
    for hierarchy in cgroup_hierarchies():
        top = hierarchy / name
        if not top.is_dir():
            continue
        for path in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                path.rmdir()
        try:
            top.rmdir()
        except OSError:
            left.append(top)
    return left


def remove_created_dirs(existing: list[str]) -> list[str]:
    """Remove the kubelet's fixed-path directories that did not exist before (unmounting first)."""
    removed = []
    for path in KUBELET_HOST_DIRS:
        if str(path) not in existing and path.exists():
            unmount_all(path)
            subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)
            removed.append(str(path))
    return removed


def processes_with(marker: str, executable_name: str) -> list[int]:
    """Pids whose executable is called ``executable_name`` and whose command line names ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            argv
            and os.path.basename(argv[0].decode(errors="replace")) == executable_name
            and any(marker.encode() in a for a in argv)
        ):
            found.append(int(proc.name))
    return found
