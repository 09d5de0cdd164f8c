"""The platform's built-in component templates, version 1 of each (platform admins publish later
versions in the database). Each has a golden render (tests/unit/domain/golden/templates/)."""

from __future__ import annotations

from dockyard.domain.templates import Parameter, Template

_INSTANCES = Parameter("instances", "int", "how many instances", 2, minimum=0, maximum=100)

BUILTIN_TEMPLATES: tuple[Template, ...] = (
    Template(
        name="java-web",
        version=1,
        builtin=True,
        description="A Java web service on one HTTP port, checked on a health path, drained before it stops.",
        parameters=(
            Parameter("image", "image", "the service's image, with a tag or a digest"),
            Parameter("flavor", "flavor", "the instance size", "medium"),
            _INSTANCES,
            Parameter("port", "int", "the HTTP port", 8080, minimum=1024, maximum=65535),
            Parameter("health_path", "string", "the readiness and liveness check's path", "/actuator/health"),
            Parameter("heap", "enum", "the JVM's heap as a share of the memory", "75", choices=("50", "65", "75")),
            Parameter("profile", "string", "the Spring profile", "default"),
            Parameter("debug_port", "bool", "open the JVM debug agent on 5005 (never in production)", False),
        ),
        body={
            "image": "${image}",
            "flavor": "${flavor}",
            "instances": "${instances}",
            "ports": [{"name": "http", "port": "${port}"}],
            "env": {
                "JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=${heap}.0 -XX:+ExitOnOutOfMemoryError",
                "SPRING_PROFILES_ACTIVE": "${profile}",
                "SERVER_PORT": "${port}",
                "JAVA_DEBUG": "${debug_port}",
            },
            "readiness": {"port": "${port}", "path": "${health_path}", "initial_delay_seconds": 10},
            "liveness": {
                "port": "${port}",
                "path": "${health_path}",
                "initial_delay_seconds": 60,
                "period_seconds": 20,
            },
            "termination_grace_seconds": 45,
        },
    ),
    Template(
        name="python-worker",
        version=1,
        builtin=True,
        description="A Python background worker: no port, a queue to read, a graceful stop.",
        parameters=(
            Parameter("image", "image", "the worker's image, with a tag or a digest"),
            Parameter("flavor", "flavor", "the instance size", "small"),
            _INSTANCES,
            Parameter("queue", "string", "the queue the worker reads", "default"),
            Parameter("concurrency", "int", "tasks at once per instance", 4, minimum=1, maximum=64),
            Parameter("log_level", "enum", "how much it logs", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
            Parameter("priority", "enum", "scheduling priority", "batch", choices=("online", "batch")),
        ),
        body={
            "image": "${image}",
            "flavor": "${flavor}",
            "instances": "${instances}",
            "env": {
                "WORKER_QUEUE": "${queue}",
                "WORKER_CONCURRENCY": "${concurrency}",
                "LOG_LEVEL": "${log_level}",
                "PYTHONUNBUFFERED": "1",
            },
            "placement": {"priority": "${priority}"},
            "termination_grace_seconds": 120,
        },
    ),
    Template(
        name="nginx-static",
        version=1,
        builtin=True,
        description="Static files served by nginx (unprivileged image) with its own configuration.",
        parameters=(
            Parameter("image", "image", "an nginx image holding the site", "nginxinc/nginx-unprivileged:1.27-alpine"),
            Parameter("flavor", "flavor", "the instance size", "tiny"),
            _INSTANCES,
            Parameter("server_name", "string", "the host name nginx answers for", "_"),
            Parameter("cache_seconds", "int", "how long browsers may cache files", 3600, minimum=0, maximum=31536000),
            Parameter("gzip", "enum", "compress answers", "on", choices=("on", "off")),
        ),
        body={
            "image": "${image}",
            "flavor": "${flavor}",
            "instances": "${instances}",
            "ports": [{"name": "http", "port": 8080}],
            "config_files": {
                "nginx.conf": (
                    "server {\n"
                    "    listen 8080;\n"
                    "    server_name ${server_name};\n"
                    "    root /usr/share/nginx/html;\n"
                    "    gzip ${gzip};\n"
                    "    location / {\n"
                    '        add_header Cache-Control "max-age=${cache_seconds}";\n'
                    "        try_files $$uri $$uri/ =404;\n"
                    "    }\n"
                    "}\n"
                )
            },
            "readiness": {"port": 8080, "path": "/"},
            "pre_stop": ["/bin/sh", "-c", "sleep 5; nginx -s quit"],
        },
    ),
)
