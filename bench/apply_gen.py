#!/usr/bin/env python3
"""Writes N varied, valid NetworkPolicies, one YAML file each, for bench/apply_bench.sh.

usage: apply_gen.py DIR [N]

The mix is deterministic (same N, same files) and covers what real projects write: ingress
from pods and namespaces, egress to CIDRs with exceptions and DNS, named and numbered
ports with and without an explicit protocol (the server defaults it), default-deny, and
matchExpressions. No namespace is set: the tools under test apply into the one they are
given.
"""

import os
import random
import sys


def pod_selector(rng, app):
    if rng.random() < 0.3:
        return {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}],
                "matchLabels": {"app": app}}
    return {"matchLabels": {"app": app}}


def port(rng):
    p = {"port": rng.choice([80, 443, 8080, 5432, 6379, 9090, "http", "metrics"])}
    if rng.random() < 0.5:
        p["protocol"] = rng.choice(["TCP", "UDP"]) if isinstance(p["port"], int) else "TCP"
    return p


def policy(i, rng):
    app = f"app-{i % 40}"
    shape = i % 5
    spec = {"podSelector": pod_selector(rng, app)}
    if shape == 0:  # ingress from sibling pods on a few ports
        spec["ingress"] = [{"from": [{"podSelector": {"matchLabels": {"role": f"client-{i}"}}}],
                            "ports": [port(rng) for _ in range(rng.randint(1, 3))]}]
    elif shape == 1:  # ingress from other namespaces
        spec["ingress"] = [{"from": [{"namespaceSelector": {"matchExpressions": [
            {"key": "team", "operator": "NotIn", "values": ["sandbox"]}]},
            "podSelector": {"matchLabels": {"app": "gateway"}}}],
            "ports": [{"port": 8080 + i % 10}]}]
        spec["policyTypes"] = ["Ingress"]
    elif shape == 2:  # egress to a CIDR with exceptions, plus DNS
        spec["egress"] = [
            {"to": [{"ipBlock": {"cidr": f"10.{i % 200}.0.0/16",
                                 "except": [f"10.{i % 200}.{i % 250}.0/24"]}}],
             "ports": [{"port": 443, "protocol": "TCP"}]},
            {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
        ]
        spec["policyTypes"] = ["Egress"]
    elif shape == 3:  # default deny both ways for one app
        spec["policyTypes"] = ["Ingress", "Egress"]
    else:  # both directions, several rules
        spec["ingress"] = [{"from": [{"podSelector": {"matchLabels": {"app": f"app-{(i + k) % 40}"}}}],
                            "ports": [port(rng)]} for k in range(1, rng.randint(2, 4))]
        spec["egress"] = [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                           "ports": [{"port": 5432}]},
                          {"ports": [{"port": 53, "protocol": "UDP"}]}]
        spec["policyTypes"] = ["Ingress", "Egress"]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"bench-{i:04d}", "labels": {"bench": "apply", "shape": str(shape)}},
            "spec": spec}


def to_yaml(value, indent=0):
    """Block YAML for the plain dicts, lists, strings and ints above (no library needed)."""
    pad = "  " * indent
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:")
                out.append(to_yaml(v, indent + 1))
            else:
                out.append(f"{pad}{k}: {scalar(v)}")
    else:
        for v in value:
            if isinstance(v, (dict, list)) and v:
                body = to_yaml(v, indent + 1).lstrip()
                out.append(f"{pad}- {body}")
            else:
                out.append(f"{pad}- {scalar(v)}")
    return "\n".join(out)


def scalar(v):
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    if isinstance(v, int):
        return str(v)
    return f'"{v}"'


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2])
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 200
    os.makedirs(out, exist_ok=True)
    rng = random.Random(4)
    for i in range(n):
        with open(os.path.join(out, f"bench-{i:04d}.yaml"), "w") as f:
            f.write(to_yaml(policy(i, rng)) + "\n")


if __name__ == "__main__":
    main()
