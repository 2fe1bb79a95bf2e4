"""CI has no Docker engine: parse docker-compose.yml and check that it would run the portal.

Checks what a typo would silently break: the five services exist, each long-running one has a
health check, start-up order waits for health (not just for a container to exist), one-off jobs
are waited on until they succeed, volumes are declared, and no dependency loops.
"""

from __future__ import annotations

import re
import sys

import yaml

REQUIRED = {"web", "worker", "beat", "db", "redis"}
# The application services must not start before PostgreSQL and Redis answer.
APP_SERVICES = {"web", "worker", "beat"}
BACKING = {"db", "redis"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
COMMAND_MUST_MENTION = {
    "web": ["gunicorn"],
    "worker": ["celery", "worker"],
    "beat": ["celery", "beat", "DatabaseScheduler"],
}
IMAGE_MUST_START = {"db": "postgres:", "redis": "redis:"}
# A lone `$` that is neither `$$` nor `${...}`/`$NAME` is a Compose interpolation error.
BAD_DOLLAR = re.compile(r"(?<!\$)\$(?![${A-Za-z_])")

errors: list[str] = []


def error(message: str) -> None:
    errors.append(message)


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def has_healthcheck(service: dict) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("test")) and not check.get("disable") and check["test"] != ["NONE"]


def command_text(service: dict) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    services: dict[str, dict] = compose.get("services") or {}

    missing = REQUIRED - set(services)
    if missing:
        error(f"lacks services: {sorted(missing)}")

    graph = {name: depends_on(service) for name, service in services.items()}
    one_off = {name for name, service in services.items() if service.get("restart") == "no"}

    for name, deps in graph.items():
        for dep, condition in deps.items():
            if dep not in services:
                error(f"{name} depends on {dep}, which is not a service")
                continue
            if condition not in CONDITIONS:
                error(f"{name} → {dep}: unknown condition {condition!r}")
            if condition == "service_healthy" and not has_healthcheck(services[dep]):
                error(f"{name} waits for {dep} to be healthy, but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and dep not in one_off:
                error(f"{name} waits for {dep} to finish, but {dep} is not a one-off job")

    for name, service in services.items():
        if name in one_off:
            waited_for = [
                other
                for other, deps in graph.items()
                if deps.get(name) == "service_completed_successfully"
            ]
            if not waited_for:
                error(f"one-off job {name} is waited on by no service")
        elif not has_healthcheck(service):
            error(f"service {name} has no healthcheck")

    for name in APP_SERVICES & set(services):
        for backing in BACKING & set(services):
            if graph[name].get(backing) != "service_healthy":
                error(f"{name} must depend on {backing} with condition: service_healthy")
        for word in COMMAND_MUST_MENTION[name]:
            if word not in command_text(services[name]):
                error(f"{name}'s command does not run {word}: {command_text(services[name])!r}")
    for name, prefix in IMAGE_MUST_START.items():
        if name in services and not str(services[name].get("image", "")).startswith(prefix):
            error(f"{name} should run the {prefix.rstrip(':')} image")

    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if source and not source.startswith((".", "/", "~")) and source not in declared:
                error(f"{name} mounts volume {source!r}, which is not declared under volumes:")
    mounted = {
        (volume.split(":")[1] if isinstance(volume, str) else volume.get("target"))
        for volume in (services.get("db") or {}).get("volumes") or []
    }
    if "/var/lib/postgresql/data" not in mounted:
        error("db keeps its data in the container: mount a volume on /var/lib/postgresql/data")
    if not (services.get("web") or {}).get("volumes"):
        error("web has no volume for uploaded media")

    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            error(f"dependency loop: {' → '.join([*trail, name])}")
            return
        state[name] = "open"
        for dep in graph.get(name, {}):
            if dep in services:
                visit(dep, [*trail, name])
        state[name] = "done"

    for name in services:
        visit(name, [])

    for text in strings(compose):
        if BAD_DOLLAR.search(text):
            error(f"a lone '$' (write '$$' for a literal dollar): {text!r}")

    if errors:
        sys.exit(f"{path}:\n  " + "\n  ".join(errors))
    checked = len(services) - len(one_off)
    print(
        f"{path}: {len(services)} services, {checked} with health checks, "
        f"{len(one_off)} one-off job(s), start-up order sound"
    )


if __name__ == "__main__":
    main(sys.argv[1])
