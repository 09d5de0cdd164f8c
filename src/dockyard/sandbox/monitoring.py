"""The sandbox's Prometheus: its command line, its generated configuration, and KWOK's fake cAdvisor.

Everything here is generated on every ``sandbox up``; nothing is edited by hand:

- ``<sandbox>/prometheus/prometheus.yml`` scrapes KWOK's fake nodes (:data:`KWOK_METRIC_PATH`, found
  through KWOK's Prometheus service discovery, labelled ``metrics_path="/metrics/cadvisor"``), real nodes' kubelets
  (``/metrics/cadvisor`` and ``/metrics/resource`` through the apiserver's node proxy, listed in
  ``targets/nodes.json`` by :func:`write_real_nodes` on every ``sandbox up``: Debian's Prometheus is
  built without ``kubernetes_sd``) and Dockyard's own ``/metrics`` (targets in ``targets/dockyard.json``,
  its bearer token in ``scrape-token``: both re-read by Prometheus without a reload, written by
  :func:`register_dockyard`), the application instances that export the request histogram (the ``apps``
  job: Dockyard's HTTP service discovery, ``/metrics/targets``, asked with the same token; its URL is
  in the configuration, so registering another Dockyard rewrites that job and reloads), and loads the
  rule files shipped with Dockyard (:func:`dockyard.monitoring.rules_dir`) and any in ``<sandbox>/prometheus/rules/``.
- Every kubelet series gets ``job="kubelet"``, ``node``, ``metrics_path`` and ``cluster`` (the name
  the sandbox is registered under: ``local``, or a named sandbox's name) from the scrape config, as
  kube-prometheus labels them, so the same rules serve both kinds of node.
- :func:`kwok_cadvisor` is the KWOK ``Metric`` that makes each fake pod emit the 16 per-instance
  cAdvisor series, at rates set by the pod's annotations (:data:`RATE_ANNOTATIONS`) at creation, and
  the request-duration histogram real instances export (:data:`dockyard.domain.apm.HISTOGRAM`, over
  :data:`ROUTES`), at the requests/s, error ratio and slow share set by :data:`APM_ANNOTATIONS`, and
  the series of a kubelet's ``/metrics/resource`` that metrics-server reads: one Metric per node, in
  place of KWOK's own ``metrics-resource.yaml`` (see :data:`KWOK_METRIC_PATH`).

A running Prometheus whose generated configuration changed is told to reload by SIGHUP, by pid.
"""

from __future__ import annotations

import json
import math
import os
import signal
from pathlib import Path
from typing import Any

import yaml

from dockyard.domain.apm import BUCKETS, HISTOGRAM
from dockyard.monitoring import rules_dir
from dockyard.sandbox import alerting, processes
from dockyard.sandbox.errors import ComponentError
from dockyard.sandbox.layout import Layout, Ports, sandboxes_dir

PROMETHEUS_BINARY = "/usr/bin/prometheus"  # Debian's prometheus 2.42 (scripts/setup)
INTERVAL = "5s"  # scrape and rule evaluation: short, for the sandbox (production: 15–30 s)
# KWOK's fake cAdvisor evaluates 13 CEL expressions per pod on every scrape of a node: at 1,000 nodes /
# 30,000 pods every 5 s, a 2-core machine running the control plane too answered none of the 1,000
# scrapes within 5 s (docs/benchmarks.md). Above BIG_SANDBOX fake nodes they are scraped every 15 s
# with a 14 s timeout: the newest point is then at most ~20 s old.
BIG_SANDBOX = 200
BIG_INTERVAL, BIG_TIMEOUT = "15s", "14s"  # also the rules' evaluation interval of a big sandbox
# perf of KWOK serving 9,000 fake pods' scrapes (docs/benchmarks.md): ~35 % of its CPU is Go's garbage
# collector (every CEL evaluation allocates) and half its work is metrics-server's scrapes of the same
# Metric. Above BIG_SANDBOX, KWOK collects less often (heap up to 5x live, softly capped) and
# metrics-server asks every 60 s (its default; `kubectl top` is then up to a minute old).
BIG_KWOK_ENV = {"GOGC": "400", "GOMEMLIMIT": "3GiB"}
BIG_METRICS_RESOLUTION = "60s"
KWOK_METRIC = "dockyard-cadvisor"
# One Metric per node, at the path metrics-server asks: KWOK v0.8.0 keeps one registry per node for all
# its Metrics and each scrape unregisters every series not of its own Metric, so a second path (its own
# metrics-resource.yaml beside this one) re-registered each other's series on every scrape and, when
# metrics-server's and Prometheus' scrapes of a node overlapped, served one without the other's series or
# failed to register a family at all ("a previously registered descriptor"): see docs/metrics.md.
KWOK_METRIC_PATH = "/metrics/nodes/{nodeName}/metrics/resource"
KWOK_REPLACED_CONFIG = "metrics-resource.yaml"  # KWOK's own, not loaded: KWOK_METRIC serves its series
ANNOTATION_PREFIX = "metrics.dockyard.io/"
# The pod annotations a fake pod's per-instance rates come from, with their defaults: CPU (cores)
# and the working set are KWOK's own usage annotations (kwok.x-k8s.io/usage-cpu, usage-memory,
# defaults 1m and 1Mi, which metrics-server sees too); the others are Dockyard's.
RATE_ANNOTATIONS: dict[str, str] = {
    "memory-rss": "working set × 0.8 (bytes)",
    "memory-cache": "working set × 0.4 (bytes)",
    "receive-bytes": "1024 per second",
    "transmit-bytes": "2048 per second",
    "receive-packets": "10 per second",
    "transmit-packets": "20 per second",
    "receive-packets-dropped": "0 per second",
    "transmit-packets-dropped": "0 per second",
    "receive-errors": "0 per second",
    "transmit-errors": "0 per second",
}
_NETWORK_DEFAULTS = {
    "receive-bytes": 1024,
    "transmit-bytes": 2048,
    "receive-packets": 10,
    "transmit-packets": 20,
    "receive-packets-dropped": 0,
    "transmit-packets-dropped": 0,
    "receive-errors": 0,
    "transmit-errors": 0,
}
# Keep only what Dockyard's rules read of the kubelets' many series (and what real nodes add).
KEPT_SERIES = (
    "container_cpu_usage_seconds_total|container_memory_(usage|working_set|rss|cache)(_bytes)?|"
    "container_network_(receive|transmit)_(bytes|packets|packets_dropped|errors)_total|"
    "container_spec_memory_limit_bytes|container_spec_cpu_quota|"
    "pod_(cpu_usage_seconds_total|memory_working_set_bytes)|node_(cpu_usage_seconds_total|memory_working_set_bytes)|"
    f"{HISTOGRAM}_(bucket|count|sum)"
)
# Of a fake node's answer, what the cAdvisor job keeps: not the series metrics-server reads there.
KWOK_KEPT = (
    "container_cpu_usage_seconds_total|container_memory_(usage|working_set|rss|cache)(_bytes)?|"
    "container_network_(receive|transmit)_(bytes|packets|packets_dropped|errors)_total|"
    f"{HISTOGRAM}_(bucket|count|sum)"
)
APPS_JOB = "apps"
APPS_KEPT = f"{HISTOGRAM}_(bucket|count|sum)"  # of an application's own /metrics, only the request histogram
# A fake instance's requests (the histogram's emulation), from its annotations at creation: requests
# per second, the share that answers 5xx (fast), the share of the others that is slow, and how slow.
APM_ANNOTATIONS: dict[str, tuple[float, str]] = {
    "requests": (10.0, "requests per second"),
    "error-ratio": (0.0, "share of requests answered 500"),
    "slow-fraction": (0.02, "share of the /api routes' successful requests that is slow"),
    "slow-seconds": (0.25, "how long a slow request takes (a bucket bound: 0.1, 0.25, 0.5, 1, 2.5, 5, 10)"),
}
# (method, route, share of the requests, the fast requests' latency bucket, may be slow)
ROUTES: tuple[tuple[str, str, float, float, bool], ...] = (
    ("GET", "/api/orders", 0.6, 0.05, True),
    ("POST", "/api/orders", 0.3, 0.1, True),
    ("GET", "/healthz", 0.1, 0.01, False),
)


def directory(layout: Layout) -> Path:
    return layout.root / "prometheus"


def config_path(layout: Layout) -> Path:
    return directory(layout) / "prometheus.yml"


def token_path(layout: Layout) -> Path:
    """Where Dockyard's scrape token is kept for Prometheus (mode 0600)."""
    return directory(layout) / "scrape-token"


def targets_path(layout: Layout) -> Path:
    return directory(layout) / "targets" / "dockyard.json"


def nodes_path(layout: Layout) -> Path:
    """The real nodes Prometheus scrapes through the apiserver (file_sd; :func:`write_real_nodes`)."""
    return directory(layout) / "targets" / "nodes.json"


def extra_rules_dir(layout: Layout) -> Path:
    return directory(layout) / "rules"


def cluster_name(layout: Layout) -> str:
    """The name the sandbox's series carry as ``cluster``: what ``dockyard up`` registers the default
    sandbox as (``local``), or a named sandbox's name (``sandbox up --name``)."""
    return layout.root.name if layout.root.parent == sandboxes_dir() else "local"


def check_installed(binary: str = PROMETHEUS_BINARY) -> None:
    """:class:`ComponentError` saying how to install Prometheus when ``binary`` is missing."""
    if not os.access(binary, os.X_OK):
        raise ComponentError(
            f"{binary} is missing: install Debian's prometheus (apt-get install -y --no-install-recommends "
            "prometheus; scripts/setup does) and stop its service (service prometheus stop)"
        )


def argv(layout: Layout, ports: Ports) -> list[str]:
    """Prometheus' command line; its data stays in the sandbox."""
    return [
        PROMETHEUS_BINARY,
        f"--config.file={config_path(layout)}",
        f"--storage.tsdb.path={directory(layout) / 'data'}",
        "--storage.tsdb.retention.time=1d",
        f"--web.listen-address=127.0.0.1:{ports.prometheus}",
        f"--web.external-url=http://127.0.0.1:{ports.prometheus}/",
        "--log.level=warn",
    ]


def is_big(nodes: int) -> bool:
    """Whether a sandbox of ``nodes`` fake nodes gets the settings of :data:`BIG_SANDBOX`."""
    return nodes > BIG_SANDBOX


def big_scrape(nodes: int) -> dict[str, str]:
    """The interval and timeout of the jobs whose answers grow with the instances (``kwok-cadvisor``, and
    ``dockyard``: three series per instance) for a sandbox of ``nodes`` fake nodes (none: the global 5 s;
    see :data:`BIG_SANDBOX`)."""
    return {"scrape_interval": BIG_INTERVAL, "scrape_timeout": BIG_TIMEOUT} if is_big(nodes) else {}


def apps_job(layout: Layout, dockyard: str) -> dict[str, Any]:
    """The ``apps`` job: the application instances Dockyard at ``dockyard`` (``host:port``) lists in its
    HTTP service discovery (``/metrics/targets``, asked with the scrape token: the instances' own
    ``/metrics`` never see it), keeping only the request histogram's series."""
    return {
        "job_name": APPS_JOB,
        "http_sd_configs": [
            {
                "url": f"http://{dockyard}/metrics/targets",
                "refresh_interval": INTERVAL,
                "authorization": {"type": "Bearer", "credentials_file": str(token_path(layout))},
            }
        ],
        "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": APPS_KEPT, "action": "keep"}],
    }


def config(layout: Layout, ports: Ports, *, nodes: int = 0, dockyard: str | None = None) -> dict[str, Any]:
    """The generated ``prometheus.yml`` (see the module's docstring); ``nodes``: how many fake nodes;
    ``dockyard``: the registered Dockyard's ``host:port``, whose service discovery the ``apps`` job reads
    (none: no ``apps`` job)."""
    cluster = cluster_name(layout)
    pki = layout.pki
    kubelet_labels: list[dict[str, Any]] = [
        {"target_label": "job", "replacement": "kubelet"},
        {"source_labels": ["node"], "target_label": "instance"},
        {"target_label": "cluster", "replacement": cluster},
    ]
    keep = [{"source_labels": ["__name__"], "regex": KEPT_SERIES, "action": "keep"}]
    tls = {"ca_file": str(pki / "ca.crt"), "cert_file": str(pki / "admin.crt"), "key_file": str(pki / "admin.key")}

    def real_node(path: str) -> dict[str, Any]:
        return {
            "job_name": f"kubelet-{path}",
            "scheme": "https",
            "tls_config": tls,
            "file_sd_configs": [{"files": [str(nodes_path(layout))], "refresh_interval": INTERVAL}],
            "relabel_configs": [
                {
                    "source_labels": ["node"],
                    "target_label": "__metrics_path__",
                    "replacement": f"/api/v1/nodes/${{1}}/proxy/metrics/{path}",
                },
                {"target_label": "metrics_path", "replacement": f"/metrics/{path}"},
                *kubelet_labels,
            ],
            "metric_relabel_configs": keep,
        }

    return {
        "global": {
            "scrape_interval": INTERVAL,
            # The roll-up of 30,000 instances takes seconds to evaluate: every 5 s it would take a core.
            "evaluation_interval": BIG_INTERVAL if is_big(nodes) else INTERVAL,
            "scrape_timeout": INTERVAL,
        },
        "rule_files": [str(rules_dir() / "*.yml"), str(extra_rules_dir(layout) / "*.yml")],
        "alerting": alerting.prometheus_section(ports),
        "scrape_configs": [
            {
                "job_name": "kwok-cadvisor",
                **big_scrape(nodes),
                "http_sd_configs": [
                    {"url": f"http://127.0.0.1:{ports.kwok}/discovery/prometheus", "refresh_interval": INTERVAL}
                ],
                "relabel_configs": [
                    {"source_labels": ["metrics_name"], "regex": KWOK_METRIC, "action": "keep"},
                    {
                        "source_labels": ["__metrics_path__"],
                        "regex": "/metrics/nodes/([^/]+)/.*",
                        "target_label": "node",
                    },
                    {"target_label": "metrics_path", "replacement": "/metrics/cadvisor"},
                    {"regex": "metrics_name", "action": "labeldrop"},
                    *kubelet_labels,
                ],
                "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": KWOK_KEPT, "action": "keep"}],
            },
            real_node("cadvisor"),
            real_node("resource"),
            {
                "job_name": "dockyard",
                **big_scrape(nodes),
                "honor_labels": True,  # dockyard_instance_info's own cluster label wins
                "authorization": {"type": "Bearer", "credentials_file": str(token_path(layout))},
                "file_sd_configs": [{"files": [str(targets_path(layout))], "refresh_interval": INTERVAL}],
            },
            # The edge load balancer's (HAProxy's) exporter: requests per backend and per instance.
            {"job_name": "edge", "static_configs": [{"targets": [f"127.0.0.1:{ports.edge_admin}"]}]},
            *([apps_job(layout, dockyard)] if dockyard else []),
        ],
    }


def write_config(layout: Layout, ports: Ports, *, nodes: int = 0) -> bool:
    """Write the configuration (and the empty places Dockyard fills in) for ``nodes`` fake nodes; True
    if it changed."""
    root = directory(layout)
    for d in (root, root / "data", targets_path(layout).parent, extra_rules_dir(layout)):
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not token_path(layout).exists():
        _write_private(token_path(layout), "")
    for path in (targets_path(layout), nodes_path(layout)):
        if not path.exists():
            path.write_text("[]\n")
    return _write_yaml(config_path(layout), config(layout, ports, nodes=nodes, dockyard=registered(layout)))


def _write_yaml(path: Path, data: dict[str, Any]) -> bool:
    text = yaml.safe_dump(data, sort_keys=False)
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return True


def registered(layout: Layout) -> str | None:
    """The ``host:port`` of the Dockyard registered with a scrape token (:func:`register_dockyard`), if any."""
    try:
        groups = json.loads(targets_path(layout).read_text())
        token = token_path(layout).read_text().strip()
    except (OSError, ValueError):
        return None
    if not token or not isinstance(groups, list) or not groups:
        return None
    targets = groups[0].get("targets") if isinstance(groups[0], dict) else None
    return str(targets[0]) if isinstance(targets, list) and targets else None


def _set_apps_job(layout: Layout) -> None:
    """Point a written configuration's ``apps`` job at the registered Dockyard (or drop it), and have a
    running Prometheus reload it when it changed (the service discovery's URL is not re-read by itself)."""
    path = config_path(layout)
    try:
        current = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return  # no configuration yet: ``sandbox up`` writes it with the job
    if not isinstance(current, dict):
        return
    dockyard = registered(layout)
    jobs = [j for j in current.get("scrape_configs") or [] if j.get("job_name") != APPS_JOB]
    current["scrape_configs"] = [*jobs, *([apps_job(layout, dockyard)] if dockyard else [])]
    if _write_yaml(path, current):
        reload(layout, layout.pid_file("prometheus"))


def reload(layout: Layout, pid_file: Path) -> bool:
    """Tell a running Prometheus to read its configuration and rule files again (SIGHUP, by pid)."""
    running = processes.find(pid_file, marker=str(layout.root))
    if running is None:
        return False
    os.kill(running.pid, signal.SIGHUP)
    return True


def register_dockyard(layout: Layout, *, address: str, token: str) -> None:
    """Have the sandbox's Prometheus scrape Dockyard's ``/metrics`` at ``address`` (``host:port``)
    with ``token`` (Prometheus reads both files again by itself: no reload)."""
    write_dir = targets_path(layout).parent
    write_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(token_path(layout), token)
    tmp = targets_path(layout).with_suffix(".tmp")
    tmp.write_text(json.dumps([{"targets": [address], "labels": {}}]))
    tmp.replace(targets_path(layout))
    _set_apps_job(layout)


def unregister_dockyard(layout: Layout) -> None:
    """Scrape no Dockyard any more (no target, an empty token)."""
    _write_private(token_path(layout), "")
    tmp = targets_path(layout).with_suffix(".tmp")
    tmp.write_text("[]\n")
    tmp.replace(targets_path(layout))
    _set_apps_job(layout)


def write_real_nodes(layout: Layout, ports: Ports, nodes: list[str]) -> None:
    """Have Prometheus scrape these real (kubelet) nodes' ``/metrics/cadvisor`` and ``/metrics/resource``
    through the apiserver's node proxy (re-read by Prometheus by itself: no reload)."""
    groups = [{"targets": [f"127.0.0.1:{ports.apiserver}"], "labels": {"node": name}} for name in sorted(nodes)]
    tmp = nodes_path(layout).with_suffix(".tmp")
    tmp.write_text(json.dumps(groups))
    tmp.replace(nodes_path(layout))


def _write_private(path: Path, content: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    tmp.replace(path)


# --- KWOK's fake cAdvisor ---------------------------------------------------------------------------


def _annotation(name: str) -> str:
    return f'pod.metadata.annotations["{ANNOTATION_PREFIX}{name}"]'


def _quantity_literal(value: int) -> str:
    return f'Quantity("{value}")'


def _quantity_or(name: str, default: str) -> str:
    """The pod's annotation as a KWOK ``Quantity``, else ``default`` (a Quantity expression too: CEL's
    conditional needs one type on both sides, and ``Quantity()`` is not a double). Never fails."""
    key = f'"{ANNOTATION_PREFIX}{name}"'
    return f"({key} in pod.metadata.annotations ? Quantity({_annotation(name)}) : {default})"


_CONTAINER_LABELS = [
    {"name": "container", "value": "container.name"},
    {"name": "namespace", "value": "pod.metadata.namespace"},
    {"name": "pod", "value": "pod.metadata.name"},
]
# cAdvisor reports a pod's network on its sandbox (pause) container: container="" and the interface.
_POD_LABELS = [
    {"name": "container", "value": '""'},
    {"name": "interface", "value": '"eth0"'},
    {"name": "namespace", "value": "pod.metadata.namespace"},
    {"name": "pod", "value": "pod.metadata.name"},
]


def kwok_cadvisor(*, requests: bool = True) -> dict[str, Any]:
    """The KWOK ``Metric`` of the 16 per-instance cAdvisor series and, if ``requests``, the request
    histogram (see the module's docstring). Sandboxes of more than :data:`BIG_SANDBOX` fake nodes go
    without the histogram: it is 70 of a pod's 86 series, and KWOK evaluates each one on every
    scrape (docs/apm.md)."""
    working_set = 'pod.Usage("memory", container.name)'
    # Quantity("1") * double is how a double becomes a Quantity (to the milli).
    rss = _quantity_or("memory-rss", f'Quantity("1") * ({working_set} * 0.8)')
    cache = _quantity_or("memory-cache", f'Quantity("1") * ({working_set} * 0.4)')

    def container(name: str, kind: str, value: str, help_: str) -> dict[str, Any]:
        return {
            "name": name,
            "help": help_,
            "kind": kind,
            "dimension": "container",
            "labels": _CONTAINER_LABELS,
            "value": value,
        }

    metrics = [
        container(
            "container_cpu_usage_seconds_total",
            "counter",
            'pod.CumulativeUsage("cpu", container.name)',
            "Cumulative cpu time consumed in seconds.",
        ),
        container("container_memory_working_set_bytes", "gauge", working_set, "Current working set in bytes."),
        container("container_memory_rss", "gauge", rss, "Size of RSS in bytes."),
        container("container_memory_cache", "gauge", cache, "Number of bytes of page cache memory."),
        container(
            "container_memory_usage_bytes", "gauge", f"{rss} + {cache}", "Current memory usage in bytes (rss + cache)."
        ),
    ]
    for name, default in _NETWORK_DEFAULTS.items():
        direction, _, what = name.partition("-")
        metrics.append(
            {
                "name": f"container_network_{direction}_{what.replace('-', '_')}_total",
                "help": f"Cumulative count of {what.replace('-', ' ')} {direction}d.",
                "kind": "counter",
                "dimension": "pod",
                "labels": _POD_LABELS,
                # Monotonic as long as the rate is set at creation (a new rate would be a counter reset).
                "value": f"{_quantity_or(name, _quantity_literal(default))} * pod.SinceSecond()",
            }
        )
    metrics.extend(_resource_metrics())
    if requests:
        metrics.extend(kwok_requests())
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Metric",
        "metadata": {"name": KWOK_METRIC},
        "spec": {"path": KWOK_METRIC_PATH, "metrics": metrics},
    }


def _resource_metrics() -> list[dict[str, Any]]:
    """The series of KWOK's own ``metrics-resource.yaml`` that the Metric above does not have yet, with
    its expressions: what metrics-server reads of a node's ``/metrics/resource`` (it skips the rest)."""
    pod_labels = _CONTAINER_LABELS[1:]
    return [
        {"name": "scrape_error", "help": "1 if there was an error while getting metrics from the node.",
         "kind": "gauge", "dimension": "node", "value": "0"},
        {"name": "container_start_time_seconds", "help": "Start time of the container (as KWOK gives it).",
         "kind": "gauge", "dimension": "container", "labels": _CONTAINER_LABELS, "value": "pod.SinceSecond()"},
        {"name": "pod_cpu_usage_seconds_total", "help": "Cumulative cpu time consumed by the pod in core-seconds.",
         "kind": "counter", "dimension": "pod", "labels": pod_labels, "value": 'pod.CumulativeUsage("cpu")'},
        {"name": "pod_memory_working_set_bytes", "help": "Current working set of the pod in bytes.",
         "kind": "gauge", "dimension": "pod", "labels": pod_labels, "value": 'pod.Usage("memory")'},
        {"name": "node_cpu_usage_seconds_total", "help": "Cumulative cpu time consumed by the node in core-seconds.",
         "kind": "counter", "dimension": "node", "value": 'node.CumulativeUsage("cpu")'},
        {"name": "node_memory_working_set_bytes", "help": "Current working set of the node in bytes.",
         "kind": "gauge", "dimension": "node", "value": 'node.Usage("memory")'},
    ]  # fmt: skip


def _number(name: str) -> str:
    """The pod's annotation ``name`` as a double, else its default (never fails: a failing expression
    makes KWOK drop the whole metric)."""
    default = APM_ANNOTATIONS[name][0]
    key = f'"{ANNOTATION_PREFIX}{name}"'
    return f"({key} in pod.metadata.annotations ? double({_annotation(name)}) : {default!r})"


def _le(bound: float) -> str:
    """A bucket bound as Prometheus' clients write it in the ``le`` label."""
    return "+Inf" if math.isinf(bound) else repr(bound)


def kwok_requests() -> list[dict[str, Any]]:
    """The emulated request-duration histogram of each fake pod, as the three counter families a real
    client exposes (``_bucket`` per ``le`` with ``+Inf``, ``_count``, ``_sum``), one set per route of
    :data:`ROUTES` and code (``200``; ``500`` for the routes that may fail). Each value is ``seconds
    since creation × requests/s × the route's share × the code's share × the share at or below the
    bound``: fast requests take the route's own bucket bound, the slow share ``slow-seconds``, errors
    are fast.

    Counters, not KWOK's ``histogram`` kind: KWOK v0.8.0's histogram drops its labels when written
    (two histograms of one pod then collide and the node's whole scrape fails) and leaves ``+Inf`` at 0.
    """
    since, rps = "pod.SinceSecond()", _number("requests")
    errors, slow, slow_at = _number("error-ratio"), _number("slow-fraction"), _number("slow-seconds")
    out: list[dict[str, Any]] = []

    def counter(suffix: str, labels: list[dict[str, str]], value: str) -> dict[str, Any]:
        return {
            "name": f"{HISTOGRAM}_{suffix}",
            "help": "Duration of HTTP server requests in seconds (emulated by KWOK).",
            "kind": "counter",
            "dimension": "pod",
            "labels": labels,
            "value": value,
        }

    for method, route, share, fast, may_be_slow in ROUTES:
        for code in ("200", "500") if may_be_slow else ("200",):
            labels = [
                {"name": "namespace", "value": "pod.metadata.namespace"},
                {"name": "pod", "value": "pod.metadata.name"},
                {"name": "method", "value": f'"{method}"'},
                {"name": "route", "value": f'"{route}"'},
                {"name": "code", "value": f'"{code}"'},
            ]
            of_code = errors if code == "500" else f"(1.0 - {errors})"
            count = f"{since} * {rps} * {share!r} * {of_code}"
            timed = may_be_slow and code == "200"
            for le in (*BUCKETS, math.inf):
                terms = []
                if fast <= le:
                    terms.append(f"(1.0 - {slow})" if timed else "1.0")
                if timed:
                    terms.append(f"({slow_at} <= {le!r} ? {slow} : 0.0)" if not math.isinf(le) else slow)
                value = f"{count} * ({' + '.join(terms)})" if terms else "0.0"
                out.append(counter("bucket", [*labels, {"name": "le", "value": f'"{_le(le)}"'}], value))
            out.append(counter("count", labels, count))
            mean = f"((1.0 - {slow}) * {fast!r} + {slow} * {slow_at})" if timed else repr(fast)
            out.append(counter("sum", labels, f"{count} * {mean}"))
    return out


def emulated_rates(annotations: dict[str, str]) -> dict[tuple[str, str, str], list[tuple[float, float]]]:
    """What :func:`kwok_requests` makes a pod with ``annotations`` emit, as per-second cumulative
    buckets (``+Inf`` last) per ``(method, route, code)``: the reference tests compare Prometheus with."""
    value = {k: float(annotations.get(ANNOTATION_PREFIX + k, d)) for k, (d, _) in APM_ANNOTATIONS.items()}
    out: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for method, route, share, fast, may_be_slow in ROUTES:
        for code in ("200", "500") if may_be_slow else ("200",):
            rate = value["requests"] * share * (value["error-ratio"] if code == "500" else 1 - value["error-ratio"])
            slow = value["slow-fraction"] if may_be_slow and code == "200" else 0.0
            running, below, buckets = 0.0, 0.0, []
            for le in BUCKETS:
                running += rate * ((1 - slow) if below < fast <= le else 0.0)
                running += rate * (slow if below < value["slow-seconds"] <= le else 0.0)
                buckets.append((le, running))
                below = le
            buckets.append((math.inf, running))
            out[(method, route, code)] = buckets
    return out
