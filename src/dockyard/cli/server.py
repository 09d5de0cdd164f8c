"""`dockyard server`, `dockyard up` and `dockyard db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dockyard.cli.errors import fail

if TYPE_CHECKING:
    from dockyard.sandbox.layout import Layout
    from dockyard.services.platform import Platform
    from dockyard.settings import Settings

# The server, its database and the sandbox are imported inside the commands that run them: a client
# command (`dockyard system list`) must not pay for FastAPI, SQLAlchemy and Alembic at start-up.

db = typer.Typer(help="The database.", no_args_is_help=True)

LOCAL_CLUSTER_LABELS = {"idc": "local", "provider": "idc", "region": "local"}


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and the config file; any problem is one error line and exit 1."""
    import yaml
    from pydantic import ValidationError

    from dockyard.settings import Settings, config_file

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        fail(f"setting {field} (DOCKYARD_{field.upper()}): {first['msg']}")
    except (yaml.YAMLError, OSError) as e:
        fail(f"config file {config_file()}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")


def server(
    host: Annotated[str | None, typer.Option(help="Address to listen on [127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [8080]")] = None,
) -> None:
    """Run the Dockyard API server (migrates the database first)."""
    settings = load_settings(host=host, port=port)
    _serve(settings)


def up(
    nodes: Annotated[int | None, typer.Option("--nodes", help="Spread N nodes over the default topology")] = None,
    topology: Annotated[Path | None, typer.Option("--topology", help="Topology YAML file (node pools)")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the API server [8080]")] = None,
) -> None:
    """Start the sandbox, register it as cluster `local`, and run the server in the foreground (with the
    sandbox's HAProxy as the edge load balancer unless DOCKYARD_EDGE_RUNTIME names another, publishing
    the global names to the sandbox's CoreDNS unless DOCKYARD_DNS_RECORDS_DIR says elsewhere)."""
    import asyncio

    from pydantic import SecretStr

    from dockyard import bootstrap
    from dockyard.cli.kubeconfigs import read_kubeconfig
    from dockyard.cli.sandbox import resolve_topology
    from dockyard.domain.errors import DomainError
    from dockyard.sandbox import alerting, dns, edge, logstore, monitoring
    from dockyard.sandbox import cluster as sandbox
    from dockyard.sandbox.errors import SandboxError
    from dockyard.sandbox.layout import Layout, Ports, default_dir

    settings = with_local_sources(load_settings(port=port))
    layout = Layout(default_dir().absolute())
    if settings.dns_records_dir is None:  # the global names go to the sandbox's CoreDNS
        settings = settings.model_copy(update={"dns_records_dir": dns.records_dir(layout)})
    try:
        wanted = resolve_topology(nodes, topology)
        real = _real_nodes_here(layout)
        result = sandbox.up(
            layout,
            topology=wanted,
            real_nodes=real,
            labels=LOCAL_CLUSTER_LABELS,
            progress=lambda m: print(f"  {m}", flush=True),
        )
    except SandboxError as e:
        fail(e)
    real_names = f"; real nodes {', '.join(result.real_nodes)}" if result.real_nodes else ""
    print(f"sandbox: {result.nodes} nodes{real_names}; kubeconfig {layout.kubeconfig}", flush=True)
    if not settings.logstore_url:  # the sandbox's VictoriaLogs keeps the logs' history
        ports = Ports.from_dict((layout.read_state() or {}).get("ports", {}))
        settings = settings.model_copy(update={"logstore_url": logstore.url(ports)})
    if settings.edge_runtime is None:  # the sandbox's HAProxy is the edge load balancer
        settings = settings.model_copy(update={"edge_runtime": str(edge.runtime_socket(layout))})
    kubeconfig = read_kubeconfig(layout.kubeconfig)
    try:
        asyncio.run(_register_local(settings, kubeconfig))
    except DomainError as e:
        fail(e)
    # The sandbox's Prometheus scrapes this server's /metrics with its scrape token.
    address = f"{'127.0.0.1' if settings.host in ('0.0.0.0', '::') else settings.host}:{settings.port}"  # noqa: S104
    monitoring.register_dockyard(layout, address=address, token=bootstrap.scrape_token(settings))
    # The sandbox's Alertmanager sends to this server's webhook with its own credential; silences go to it.
    try:
        alertmanager_url, webhook_token = alerting.connect_dockyard(layout, address=address)
    except SandboxError as e:
        fail(e)
    settings = settings.model_copy(
        update={
            "alertmanager_url": settings.alertmanager_url or alertmanager_url,
            "alertmanager_webhook_token": settings.alertmanager_webhook_token or SecretStr(webhook_token),
        }
    )
    _serve(settings)


def with_local_sources(settings: Settings) -> Settings:
    """``dockyard up``'s builds may also take ``file://`` sources from the local sources directory
    (:func:`dockyard.local_paths.sources_dir`, created 0700 if missing), so a first build needs no git
    server. Only that directory is added: every other ``file://`` path and every SSRF refusal stays.
    ``dockyard server`` allows no ``file://`` source unless ``build_source_roots`` says so."""
    from dockyard.local_paths import sources_dir

    sources = sources_dir()
    sources.mkdir(mode=0o700, parents=True, exist_ok=True)
    if str(sources) in settings.build_source_roots:
        return settings
    print(f"  builds: file:// sources under {sources}", flush=True)
    return settings.model_copy(update={"build_source_roots": [*settings.build_source_roots, str(sources)]})


def _real_nodes_here(layout: Layout) -> int:
    """1 when this machine can run a real node (root, containerd, runc, CNI plugins) and no other
    sandbox runs one; else 0, saying why."""
    from dockyard.sandbox import realnode

    problem = realnode.host_problem()
    other = realnode.owner()
    if problem is None and other is not None and other != layout.root and realnode.running_in(other):
        problem = f"the sandbox in {other} runs this machine's real node"
    if problem:
        print(f"  no real node: {problem}; going on with KWOK nodes only", flush=True)
        return 0
    return 1


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the current version."""
    import asyncio

    from dockyard.domain.errors import DomainError

    settings = load_settings()

    async def run() -> None:
        platform = await _start(settings)
        await platform.stop()

    try:
        asyncio.run(run())
    except DomainError as e:
        fail(e)
    print("database is at the current schema")


async def _start(settings: Settings) -> Platform:
    """The platform, after generating the secret key on a first start (see :mod:`dockyard.bootstrap`)."""
    from dockyard import bootstrap

    created = bootstrap.ensure_secret_key(settings)
    platform = await bootstrap.start(settings)
    if created:
        print(f"generated the secret key sealing secrets at rest in {settings.secret_key_file}: back it up", flush=True)
    return platform


async def _check_database(settings: Settings) -> None:
    platform = await _start(settings)
    try:
        await platform.db.ping()
    finally:
        await platform.stop()


async def _register_local(settings: Settings, kubeconfig: str) -> None:
    from dockyard.services.clusters import register_cluster

    platform = await _start(settings)
    try:
        await register_cluster(platform, name="local", kubeconfig=kubeconfig, labels=LOCAL_CLUSTER_LABELS)
    finally:
        await platform.stop()


def _serve(settings: Settings) -> None:
    import asyncio

    import uvicorn

    from dockyard import bootstrap
    from dockyard.api.app import create_app
    from dockyard.domain.errors import DomainError

    # Open (and migrate) the database before uvicorn, so a bad one is an error line, not a traceback.
    try:
        asyncio.run(_check_database(settings))
    except DomainError as e:
        fail(e)
    print(f"Dockyard on http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run(create_app(bootstrap.server(settings)), host=settings.host, port=settings.port, log_level="info")
