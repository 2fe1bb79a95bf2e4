"""CI has no Docker engine: parse docker-compose.yml and check the services it must run."""

import sys

import yaml

REQUIRED = {"web", "worker", "beat", "db", "redis"}

with open(sys.argv[1], encoding="utf-8") as f:
    compose = yaml.safe_load(f)
services = compose.get("services", {})
missing = REQUIRED - set(services)
if missing:
    sys.exit(f"docker-compose.yml lacks services: {sorted(missing)}")
for name in REQUIRED:
    if "healthcheck" not in services[name]:
        sys.exit(f"docker-compose.yml: service {name} has no healthcheck")
print(f"docker-compose.yml: {len(services)} services, all with health checks")
