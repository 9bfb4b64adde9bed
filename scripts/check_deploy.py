#!/usr/bin/env python3
"""Checks that the Dockerfile, deploy/docker-compose.yml and deploy/k8s/ agree with the service.

What the service really uses is read from its sources: the executable product (Package.swift),
the `serve` subcommand, the environment variables and defaults (Sources/pruned/ServeCommand.swift),
and the routes with their methods (Sources/PruneService/Routes.swift). Each check prints one
line, `ok` or `FAIL`; the exit status is 1 when any check fails. Standard library and PyYAML only.

    python3 scripts/check_deploy.py [--root DIR]
"""

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

import yaml

BINARY = "/usr/local/bin/pruned"


class Checker:
    def __init__(self):
        self.failures = 0

    def check(self, ok, what, detail=""):
        line = f"{'ok  ' if ok else 'FAIL'} {what}"
        if detail:
            line += f" ({detail})"
        print(line)
        if not ok:
            self.failures += 1
        return ok

    def fail(self, what, detail=""):
        return self.check(False, what, detail)


# ----------------------------------------------------------------------------- the service


class Service:
    """What the Swift sources say the service is."""

    def __init__(self, root: Path):
        package = (root / "Package.swift").read_text()
        serve = (root / "Sources/pruned/ServeCommand.swift").read_text()
        entry = (root / "Sources/pruned/Pruned.swift").read_text()
        routes = (root / "Sources/PruneService/Routes.swift").read_text()

        self.products = set(re.findall(r'\.executable\(\s*name:\s*"([^"]+)"', package))
        name = re.search(r'commandName:\s*"([^"]+)"', serve)
        self.serve_command = name.group(1) if name else None
        self.serve_registered = "ServeCommand.self" in entry
        # Every environment variable the command reads appears as a whole string literal.
        self.env_vars = set(re.findall(r'"(PRUNED_[A-Z0-9_]+)"', serve))
        port = re.search(r'"PRUNED_PORT"\s*,\s*(\d+)\s*\)', serve)
        self.default_port = int(port.group(1)) if port else None
        grace = re.search(r"var\s+gracePeriod\s*:\s*\w+\s*=\s*([0-9.]+)", serve)
        self.default_grace = float(grace.group(1)) if grace else None
        self.signals = set(re.findall(r"\b(SIGTERM|SIGINT)\b", serve))

        cases = dict(re.findall(r'case\s+(\w+)\s*=\s*"(/[^"]*)"', routes))  # case name -> path
        self.routes = {path: set() for path in cases.values()}
        for names, methods in re.findall(r"case\s+((?:\.\w+\s*,?\s*)+):\s*return\s*\[([^\]]*)\]", routes):
            for case in re.findall(r"\.(\w+)", names):
                if case in cases:
                    self.routes[cases[case]] |= {m.upper() for m in re.findall(r"\.(\w+)", methods)}


# ----------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) of the final stage, line continuations joined."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    stages, stage = [], []
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage = []
            stages.append(stage)
        stage.append((word, rest.strip()))
    return stages


def exec_form(arguments):
    """A JSON-array instruction argument as a list, or the shell form split into words."""
    try:
        value = json.loads(arguments)
        if isinstance(value, list):
            return value
    except json.JSONDecodeError:
        pass
    return shlex.split(arguments)


def parse_env(arguments):
    """`ENV A=1 B=2` or the legacy `ENV A 1`."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words if "=" in word)


def urls_in(text):
    """(port, path) of every http URL in a command line."""
    return [(int(port) if port else 80, path or "/")
            for port, path in re.findall(r"https?://[^/\s:\"']+(?::(\d+))?(/[^\s\"'?]*)?", text)]


def is_root(user):
    name = user.split(":")[0].strip()
    return name in ("", "root", "0")


# ----------------------------------------------------------------------------- helpers


def duration_seconds(value):
    """Compose durations: 30s, 1m30s, 1h, 500ms; a bare number is seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total, found = 0.0, False
    for number, unit in re.findall(r"([0-9.]+)(us|ms|s|m|h)?", str(value)):
        found = True
        total += float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "": 1}[unit or ""]
    return total if found else None


def grace_in(args, default):
    """The grace period a `serve` command line sets, or the default."""
    for i, word in enumerate(args):
        if word == "--grace-period" and i + 1 < len(args):
            return float(args[i + 1])
        if word.startswith("--grace-period="):
            return float(word.split("=", 1)[1])
    return default


def compose_env(environment):
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return dict(environment or {})


def load_yaml_documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


# ----------------------------------------------------------------------------- checks


def check_service(c, svc):
    c.check("pruned" in svc.products, "Package.swift has the executable product 'pruned'", ", ".join(sorted(svc.products)))
    c.check(svc.serve_command == "serve" and svc.serve_registered,
            "ServeCommand is the 'serve' subcommand of pruned", f"commandName {svc.serve_command!r}")
    c.check(svc.default_port is not None, "ServeCommand's default port is known", f"{svc.default_port}")
    c.check(svc.default_grace is not None, "ServeCommand's default grace period is known", f"{svc.default_grace} s")
    c.check(bool(svc.env_vars), "ServeCommand reads PRUNED_* variables", ", ".join(sorted(svc.env_vars)))
    for path in ("/healthz", "/readyz"):
        c.check("GET" in svc.routes.get(path, set()), f"{path} is a GET route in Routes.swift",
                ", ".join(sorted(svc.routes.get(path, set()))) or "missing")


def check_probe(c, svc, what, port, path, expected_port, expected_path=None):
    c.check(port == expected_port, f"{what} uses port {expected_port}", f"port {port}")
    if expected_path:
        c.check(path == expected_path, f"{what} probes {expected_path}", f"path {path}")
    c.check("GET" in svc.routes.get(path, set()), f"{what} path {path} is a GET route")


def check_env(c, svc, what, env):
    for name in sorted(env):
        if name.startswith("PRUNED_"):
            c.check(name in svc.env_vars, f"{what}: {name} is read by ServeCommand.swift")


def check_dockerfile(c, svc, root):
    path = root / "Dockerfile"
    if not c.check(path.exists(), "Dockerfile exists"):
        return None
    text = path.read_text()
    stages = dockerfile_instructions(text)
    c.check(len(stages) >= 2, "Dockerfile is multi-stage", f"{len(stages)} stages")
    build_text = " ".join(args for stage in stages[:-1] for word, args in stage if word == "RUN")
    c.check(re.search(r"swift build\b[^&;]*-c release", build_text) is not None
            and re.search(r"--product\s+pruned\b", build_text) is not None,
            "build stage runs swift build -c release --product pruned")
    c.check("--static-swift-stdlib" in build_text, "build links the Swift stdlib statically")
    for package in ("libssl-dev", "zlib1g-dev"):
        c.check(package in build_text, f"build stage installs {package}")

    final = stages[-1] if stages else []
    final_run = " ".join(args for word, args in final if word == "RUN")
    for package in ("libssl3", "zlib1g"):
        c.check(re.search(rf"\b{re.escape(package)}\b", final_run) is not None, f"run stage installs {package}")

    env = {}
    for word, args in final:
        if word == "ENV":
            env.update(parse_env(args))
    check_env(c, svc, "Dockerfile ENV", env)

    copies = [args for word, args in final if word == "COPY"]
    c.check(any(exec_form(a)[-1] == BINARY and "--from=" in a for a in copies),
            f"Dockerfile copies the built binary to {BINARY}")
    entry = [exec_form(args) for word, args in final if word == "ENTRYPOINT"]
    cmd = [exec_form(args) for word, args in final if word == "CMD"]
    entry, cmd = (entry[-1] if entry else []), (cmd[-1] if cmd else [])
    c.check(entry == [BINARY], f"ENTRYPOINT is [\"{BINARY}\"]", json.dumps(entry))
    c.check(cmd[:1] == [svc.serve_command], f"CMD starts with {svc.serve_command!r}", json.dumps(cmd))

    port = int(env.get("PRUNED_PORT", svc.default_port or 0))
    c.check(port == 8080, "Dockerfile PRUNED_PORT is 8080", f"{port}")
    exposed = {int(p.split("/")[0]) for word, args in final if word == "EXPOSE" for p in args.split()}
    c.check(port in exposed, f"EXPOSE {port}", " ".join(map(str, sorted(exposed))) or "none")

    data_dir = env.get("PRUNED_DATA_DIR")
    c.check(data_dir == "/data", "Dockerfile PRUNED_DATA_DIR is /data", f"{data_dir}")
    volumes = set()
    for word, args in final:
        if word == "VOLUME":
            volumes |= set(exec_form(args))
    c.check(data_dir in volumes, f"VOLUME {data_dir}", " ".join(sorted(volumes)) or "none")

    users = [args for word, args in final if word == "USER"]
    c.check(bool(users) and not is_root(users[-1]), "run stage runs as a non-root USER", users[-1] if users else "none")

    health = [args for word, args in final if word == "HEALTHCHECK"]
    if c.check(bool(health) and health[-1].upper() != "NONE", "Dockerfile has a HEALTHCHECK"):
        urls = urls_in(health[-1])
        if c.check(len(urls) == 1, "HEALTHCHECK requests one URL", health[-1]):
            check_probe(c, svc, "HEALTHCHECK", urls[0][0], urls[0][1], port, "/healthz")
        tool = re.search(r"\b(curl|wget)\b", health[-1])
        c.check(tool is not None and re.search(rf"\b{tool.group(1)}\b", final_run) is not None,
                "the HEALTHCHECK's client is installed in the run stage", tool.group(1) if tool else "none")

    stop = [args for word, args in final if word == "STOPSIGNAL"]
    c.check(bool(stop) and stop[-1] in svc.signals, "STOPSIGNAL is a signal the service drains on",
            stop[-1] if stop else "none (SIGTERM by default)")
    return {"port": port, "data_dir": data_dir, "env": env}


def check_compose(c, svc, root, image):
    path = root / "deploy/docker-compose.yml"
    if not c.check(path.exists(), "deploy/docker-compose.yml exists"):
        return
    doc = yaml.safe_load(path.read_text())
    services = doc.get("services") or {}
    if not c.check(len(services) == 1, "compose file has one service", ", ".join(services)):
        return
    name, service = next(iter(services.items()))
    env = {**image["env"], **{k: v for k, v in compose_env(service.get("environment")).items() if v is not None}}
    check_env(c, svc, "compose environment", compose_env(service.get("environment")))

    entry = service.get("entrypoint")
    if entry is not None:
        entry = entry if isinstance(entry, list) else shlex.split(entry)
        c.check(entry == [BINARY], f"compose entrypoint is {BINARY}", json.dumps(entry))
    command = service.get("command", ["serve"])
    command = command if isinstance(command, list) else shlex.split(command)
    c.check(command[:1] == [svc.serve_command], f"compose command starts with {svc.serve_command!r}", json.dumps(command))

    port = int(env.get("PRUNED_PORT", svc.default_port))
    c.check(port == image["port"], "compose PRUNED_PORT agrees with the image", f"{port}")
    targets = []
    for p in service.get("ports") or []:
        if isinstance(p, dict):
            targets.append(int(p.get("target")))
        else:
            targets.append(int(str(p).split("/")[0].rsplit(":", 1)[-1]))
    c.check(port in targets, f"compose publishes container port {port}", ", ".join(map(str, targets)) or "none")

    data_dir = env.get("PRUNED_DATA_DIR")
    c.check(data_dir == image["data_dir"], "compose PRUNED_DATA_DIR agrees with the image", f"{data_dir}")
    mounts = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            mounts.append((v.get("source"), v.get("target")))
        else:
            parts = str(v).split(":")
            mounts.append((parts[0] if len(parts) > 1 else None, parts[1] if len(parts) > 1 else parts[0]))
    named = set(doc.get("volumes") or {})
    c.check(any(target == data_dir and source in named for source, target in mounts),
            f"compose mounts a named volume at {data_dir}", ", ".join(f"{s}:{t}" for s, t in mounts) or "none")

    health = service.get("healthcheck") or {}
    test = health.get("test")
    test_text = " ".join(test) if isinstance(test, list) else str(test or "")
    urls = urls_in(test_text)
    if c.check(len(urls) == 1, "compose healthcheck requests one URL", test_text or "none"):
        check_probe(c, svc, "compose healthcheck", urls[0][0], urls[0][1], port, "/healthz")

    signal = service.get("stop_signal", "SIGTERM")
    c.check(signal in svc.signals, "compose stop_signal is one the service drains on", signal)
    grace = grace_in(command, svc.default_grace)
    stop = duration_seconds(service.get("stop_grace_period", "10s"))
    c.check(stop is not None and stop > grace, f"compose stop_grace_period exceeds the service's grace period ({grace:g} s)",
            f"{service.get('stop_grace_period', '10s (default)')}")


def check_k8s(c, svc, root, image):
    folder = root / "deploy/k8s"
    if not c.check(folder.is_dir(), "deploy/k8s exists"):
        return
    docs = []
    for path in sorted(folder.glob("*.y*ml")):
        docs += load_yaml_documents(path)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d.get("kind"), []).append(d)
    for kind in ("Deployment", "Service", "PersistentVolumeClaim", "ConfigMap"):
        c.check(len(by_kind.get(kind, [])) == 1, f"k8s has one {kind}")
    if not by_kind.get("Deployment"):
        return
    deployment = by_kind["Deployment"][0]
    spec = deployment.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    containers = pod.get("containers", [])
    if not c.check(len(containers) == 1, "Deployment has one container"):
        return
    container = containers[0]

    c.check(spec.get("replicas", 1) == 1, "Deployment runs 1 replica", f"{spec.get('replicas', 1)}")
    c.check(spec.get("strategy", {}).get("type") == "Recreate", "Deployment strategy is Recreate (ReadWriteOnce volume)",
            f"{spec.get('strategy', {}).get('type', 'RollingUpdate (default)')}")

    command = container.get("command")
    if command is not None:
        c.check(command == [BINARY], f"container command is [\"{BINARY}\"]", json.dumps(command))
    args = container.get("args", ["serve"] if command is None else [])
    c.check(args[:1] == [svc.serve_command], f"container args start with {svc.serve_command!r}", json.dumps(args))

    # The environment: the image's, then envFrom ConfigMaps, then env.
    env = dict(image["env"])
    configmaps = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}
    for source in container.get("envFrom", []):
        ref = (source.get("configMapRef") or {}).get("name")
        if ref is not None:
            if c.check(ref in configmaps, f"envFrom ConfigMap {ref} is defined"):
                data = configmaps[ref].get("data") or {}
                check_env(c, svc, f"ConfigMap {ref}", data)
                env.update(data)
    explicit = {e["name"]: e.get("value") for e in container.get("env", [])}
    check_env(c, svc, "container env", explicit)
    env.update({k: v for k, v in explicit.items() if v is not None})
    c.check(bool(container.get("envFrom")), "container takes envFrom a ConfigMap")

    port = int(env.get("PRUNED_PORT", svc.default_port))
    c.check(port == image["port"], "k8s PRUNED_PORT agrees with the image", f"{port}")
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    c.check(port in ports.values(), f"containerPort {port}", ", ".join(map(str, ports.values())) or "none")

    def resolve(p):
        return ports.get(p) if isinstance(p, str) else p

    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = (container.get(probe) or {}).get("httpGet")
        if c.check(get is not None, f"{probe} is an httpGet"):
            check_probe(c, svc, probe, resolve(get.get("port")), get.get("path"), port, path)

    data_dir = env.get("PRUNED_DATA_DIR")
    c.check(data_dir == image["data_dir"], "k8s PRUNED_DATA_DIR agrees with the image", f"{data_dir}")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {d["metadata"]["name"]: d for d in by_kind.get("PersistentVolumeClaim", [])}
    mounted = [m for m in container.get("volumeMounts", []) if m.get("mountPath") == data_dir]
    if c.check(len(mounted) == 1, f"a volume is mounted at {data_dir}"):
        claim = (volumes.get(mounted[0]["name"], {}).get("persistentVolumeClaim") or {}).get("claimName")
        c.check(claim in claims, f"the volume at {data_dir} is the PersistentVolumeClaim", f"{claim}")
        if claim in claims:
            modes = claims[claim].get("spec", {}).get("accessModes", [])
            c.check("ReadWriteOnce" not in modes or spec.get("strategy", {}).get("type") == "Recreate",
                    "a ReadWriteOnce claim goes with the Recreate strategy", ", ".join(modes))

    grace = grace_in(args, svc.default_grace)
    period = pod.get("terminationGracePeriodSeconds", 30)
    c.check(period > grace, f"terminationGracePeriodSeconds exceeds the service's grace period ({grace:g} s)", f"{period}")

    security = pod.get("securityContext", {})
    user = (container.get("securityContext") or {}).get("runAsUser", security.get("runAsUser"))
    non_root = (container.get("securityContext") or {}).get("runAsNonRoot", security.get("runAsNonRoot"))
    c.check(non_root is True and user != 0, "pod runs as non-root", f"runAsNonRoot={non_root}, runAsUser={user}")
    c.check(bool((container.get("resources") or {}).get("requests")), "container has resource requests")

    for service in by_kind.get("Service", []):
        selector = service.get("spec", {}).get("selector", {})
        c.check(bool(selector) and all(labels.get(k) == v for k, v in selector.items()),
                f"Service {service['metadata']['name']} selects the Deployment's pods", json.dumps(selector))
        for p in service.get("spec", {}).get("ports", []):
            target = resolve(p.get("targetPort", p.get("port")))
            c.check(target == port, f"Service port {p.get('port')} targets container port {port}", f"{p.get('targetPort')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the repository root (default: this script's parent folder)")
    root = parser.parse_args().root
    c = Checker()
    svc = Service(root)
    check_service(c, svc)
    image = check_dockerfile(c, svc, root)
    if image is None:
        image = {"port": svc.default_port, "data_dir": None, "env": {}}
    check_compose(c, svc, root, image)
    check_k8s(c, svc, root, image)
    print(f"{c.failures} failed" if c.failures else "all deploy checks passed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
