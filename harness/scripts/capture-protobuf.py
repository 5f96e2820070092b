#!/usr/bin/env python3
"""Captures the protobuf bodies kubectl sends, for fixtures/sim/protobuf/.

Starts `gameday sim serve`, runs kubectl's typed `create` subcommands against
it with `-v=9` (client-go prints each request body as a hex dump), and writes
for each command `<name>.pb` (the body as kubectl's Go code encoded it) and
`<name>.json` (kubectl's own JSON of the same object, `--dry-run=client -o
json`: the reference the decoded body is compared with). The bodies are
real Go encodings (every non-pointer field written, even when zero), which
an encoder in Rust would not reproduce.

Usage: harness/scripts/capture-protobuf.py [GAMEDAY] (default
target/debug/gameday), from the repository root; needs kubectl.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

OUT = os.path.join("fixtures", "sim", "protobuf")

# name -> kubectl arguments (namespace `t`; flags before any `--`).
COMMANDS = {
    "deployment": ["create", "deployment", "web", "--image=nginx:1.27", "--port=80", "--replicas=0"],
    "job": ["create", "job", "once", "--image=busybox", "--", "echo", "hi"],
    "cronjob": ["create", "cronjob", "nightly", "--image=busybox", "--schedule=*/5 * * * *", "--restart=OnFailure", "--", "date"],
    "service-nodeport": ["create", "service", "nodeport", "edge", "--tcp=81:8081"],
    "role": ["create", "role", "reader", "--verb=get,list", "--resource=pods,configmaps"],
    "rolebinding": ["create", "rolebinding", "readers", "--role=reader", "--serviceaccount=t:bot", "--user=alice"],
    "quota": ["create", "quota", "small", "--hard=cpu=1,memory=1G,pods=2"],
    "priorityclass": ["create", "priorityclass", "batch", "--value=0", "--description=low", "--preemption-policy=Never"],
    "pdb": ["create", "poddisruptionbudget", "half", "--selector=app=web", "--max-unavailable=50%"],
    "ingress": ["create", "ingress", "site", "--class=nginx", "--rule=example.com/api*=api:80,tls=site-tls"],
    "secret": ["create", "secret", "generic", "bytes", "--from-literal=x=y", "--from-literal=empty="],
}

HEX = re.compile(r"^\s*[0-9a-f]{8}\s+((?:[0-9a-f]{2}\s+){1,16})")


def body_of(trace: str) -> bytes:
    """The last request body of a -v=9 trace that is a protobuf envelope."""
    bodies, current, inside = [], b"", False
    for line in trace.splitlines():
        if '"Request Body"' in line:
            inside, current = True, b""
            continue
        if inside:
            m = HEX.match(line)
            if m:
                current += bytes.fromhex("".join(m.group(1).split()))
                continue
            inside = False
            bodies.append(current)
    found = [b for b in bodies if b.startswith(b"k8s\x00")]
    if not found:
        sys.exit("no protobuf request body in the trace:\n" + trace[-2000:])
    return found[-1]


def split(args):
    at = args.index("--") if "--" in args else len(args)
    return args[:at], args[at:]


def main() -> None:
    gameday = sys.argv[1] if len(sys.argv) > 1 else "target/debug/gameday"
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        kc = os.path.join(tmp, "kubeconfig")
        server = subprocess.Popen([gameday, "sim", "serve", "--kubeconfig", kc], stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            if not line.startswith("ready: "):
                sys.exit(f"sim serve: {line}")
            env = dict(os.environ, KUBECONFIG=kc)

            def kubectl(args, check=True):
                return subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, check=check)

            kubectl(["create", "namespace", "t"])
            for name, args in COMMANDS.items():
                head, tail = split(args)
                client = kubectl([*head, "-n", "t", "-o", "json", "--dry-run=client", *tail]).stdout
                trace = kubectl([*head, "-n", "t", "-v=9", *tail]).stderr
                with open(os.path.join(OUT, f"{name}.pb"), "wb") as f:
                    f.write(body_of(trace))
                with open(os.path.join(OUT, f"{name}.json"), "w") as f:
                    json.dump(json.loads(client), f, indent=2, sort_keys=True)
                    f.write("\n")
                print(f"{name}: kubectl {' '.join(args)}")
        finally:
            server.terminate()
            server.wait()
    version = subprocess.run(["kubectl", "version", "--client", "-o", "json"], capture_output=True, text=True).stdout
    with open(os.path.join(OUT, "KUBECTL_VERSION"), "w") as f:
        f.write(json.loads(version)["clientVersion"]["gitVersion"] + "\n")


if __name__ == "__main__":
    main()
