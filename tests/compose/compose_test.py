"""compose/docker-compose.yml kept true to the build (ctest runs it: tests/CMakeLists.txt).

Checks that the file runs every service binary the build makes, gives each container only
environment variables and flags its binary's --help knows, and that every database
scripts/infra makes is created by compose/init-databases.sql and handed to its service. When
Debian's docker-compose is installed (scripts/setup installs it; it needs no Docker engine for
this), `docker-compose config` must accept the file as well.

usage: compose_test.py <source root> <build dir>
"""

import glob
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT, BUILD = sys.argv[1], sys.argv[2]
COMPOSE = os.path.join(ROOT, "compose", "docker-compose.yml")
problems = []

with open(COMPOSE, encoding="utf-8") as f:
    services = yaml.safe_load(f)["services"]


def built_binary(image_path):
    """The build's binary for a path in the image (/opt/bazaar/...), or None."""
    if image_path.startswith("/opt/bazaar/services/"):
        return os.path.join(BUILD, "services", image_path[len("/opt/bazaar/services/"):])
    if image_path == "/opt/bazaar/bin/bazaar-topics":
        return os.path.join(BUILD, "events", "bazaar-topics")
    return None


# 1. Every service binary of the build runs in some container.
built = sorted(
    p for p in glob.glob(os.path.join(BUILD, "services", "*", "bazaar-*"))
    if os.path.isfile(p) and os.access(p, os.X_OK))
if not built:
    problems.append(f"no service binaries under {BUILD}/services: build first")
run = {}
for name, service in services.items():
    command = service.get("command")
    if isinstance(command, list) and command:
        binary = built_binary(command[0])
        if binary:
            run[binary] = name
for binary in built:
    if binary not in run:
        problems.append(f"{os.path.relpath(binary, BUILD)} is built but no container runs it")

# 2. A container's variables and flags are its binary's own.
for binary, name in sorted(run.items()):
    if not os.path.exists(binary):
        problems.append(f"container {name} runs {binary}, which the build does not make")
        continue
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                               timeout=30).stdout
    known_env = set(re.findall(r"\(Env:([A-Z0-9_]+)\)", help_text))
    known_flags = set(re.findall(r"(--[a-z0-9][a-z0-9-]*)", help_text))
    for variable in (services[name].get("environment") or {}):
        if variable not in known_env:
            problems.append(f"container {name} sets {variable}, which {os.path.basename(binary)} "
                            "--help does not know")
    for argument in services[name]["command"][1:]:
        flag = argument.split("=", 1)[0]
        if flag.startswith("--") and flag not in known_flags:
            problems.append(f"container {name} passes {flag}, which {os.path.basename(binary)} "
                            "--help does not know")

# 3. Every database of scripts/infra exists in compose and reaches its service.
with open(os.path.join(ROOT, "scripts", "infra"), encoding="utf-8") as f:
    match = re.search(r"^SERVICES=\(([^)]*)\)", f.read(), re.MULTILINE)
# `test` is the test suites' own database, not a service's.
databases = [s for s in (match.group(1).split() if match else []) if s != "test"]
if not databases:
    problems.append("scripts/infra names no SERVICES")
with open(os.path.join(ROOT, "compose", "init-databases.sql"), encoding="utf-8") as f:
    created = set(re.findall(r"CREATE DATABASE (\w+)", f.read()))
for service in databases:
    database = f"bazaar_{service}"
    if database not in created:
        problems.append(f"compose/init-databases.sql does not create {database}")
    url = str((services.get(service, {}).get("environment") or {}).get(
        f"BAZAAR_{service.upper()}_DB", ""))
    if not url.endswith(f"/{database}"):
        problems.append(f"container {service} is not given {database} as BAZAAR_{service.upper()}_DB")

# 4. docker-compose itself accepts the file (no engine needed for `config`).
docker_compose = shutil.which("docker-compose")
if docker_compose:
    env = dict(os.environ, BAZAAR_PG_PASSWORD="x", BAZAAR_JWT_SECRET="y" * 32,
               BAZAAR_ADMIN_EMAIL="admin@bazaar.test", BAZAAR_ADMIN_PASSWORD="z" * 12)
    checked = subprocess.run([docker_compose, "-f", COMPOSE, "config", "-q"], env=env,
                             capture_output=True, text=True, timeout=120)
    if checked.returncode != 0:
        problems.append("docker-compose config refuses the file: " + checked.stderr.strip())
else:
    problems.append("docker-compose is not installed: run scripts/setup")

for problem in problems:
    print(problem, file=sys.stderr)
print(f"compose: {len(run)} containers run a built binary, {len(databases)} databases checked, "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)
