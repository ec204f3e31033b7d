#!/usr/bin/env python3
"""Generates a Hubble exporter log for the drop-log benchmark.

Lines have the shape and size of the real captures in tests/data/hubble (~1.2 kB each, so
100 MB is about 82k flows): the captured FORWARDED flows as they are, and DROPPED/AUDIT flows
made from a captured flow with the fields a policy drop carries (verdict, drop_reason_desc,
event_type, traffic_direction) and endpoints spread over a few namespaces and workloads.

usage: droplog_gen.py OUT SIZE_MB DROP_PERCENT [--logfmt]
  --logfmt wraps every event in an agent log line (level=info msg="...").
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "tests", "data", "hubble", "hubble-flows-sample.jsonl")

NAMESPACES = ["shop", "payments", "ci", "monitoring", "ingress-nginx"]
WORKLOADS = ["frontend", "cart", "db", "cache", "api", "worker", "auth", "search"]
PORTS = [80, 443, 5432, 6379, 8080, 9090]


def go_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    out, size_mb, drop_percent = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    logfmt = "--logfmt" in sys.argv
    rnd = random.Random(42)
    samples = [l for l in open(SAMPLE).read().splitlines() if '"verdict":"FORWARDED"' in l]
    template = json.loads(samples[0])  # a full jsonpb capture (GKE, bookinfo)

    def drop_line(i, t):
        event = json.loads(json.dumps(template))
        f = event["flow"]
        verdict = "AUDIT" if rnd.random() < 0.3 else "DROPPED"
        f["verdict"] = verdict
        for side in ("source", "destination"):
            ns, wl = rnd.choice(NAMESPACES), rnd.choice(WORKLOADS)
            ep = f.setdefault(side, {})
            ep["namespace"] = ns
            ep["pod_name"] = "%s-7d9f8b6c5d-%s" % (wl, "".join(rnd.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5)))
            ep["labels"] = ["k8s:app=%s" % wl, "k8s:io.kubernetes.pod.namespace=%s" % ns,
                            "k8s:io.cilium.k8s.policy.cluster=default",
                            "k8s:io.cilium.k8s.policy.serviceaccount=%s" % wl]
        f["l4"] = {"TCP": {"source_port": rnd.randint(30000, 60000), "destination_port": rnd.choice(PORTS),
                           "flags": {"SYN": True}}}
        f["event_type"] = {"type": 5} if verdict == "AUDIT" else {"type": 1, "sub_type": 133}
        f["traffic_direction"] = rnd.choice(["INGRESS", "EGRESS"])
        if verdict == "DROPPED":
            f["drop_reason"] = 133
            f["drop_reason_desc"] = "POLICY_DENIED"
        f["Summary"] = "TCP Flags: SYN"
        f["time"] = event["time"] = t
        return json.dumps(event, separators=(",", ":"))

    target = int(size_mb * 1e6)
    written = lines = drops = 0
    with open(out, "w") as o:
        while written < target:
            sec = lines // 200
            t = "2026-11-26T10:%02d:%02d.%09dZ" % (sec // 60 % 60, sec % 60, lines % 1000000000)
            if rnd.random() * 100 < drop_percent:
                line = drop_line(lines, t)
                drops += 1
            else:
                line = samples[lines % len(samples)]
            if logfmt:
                line = 'time="%s" level=info msg=%s subsys=hubble-exporter' % (t[:19] + "Z", go_quote(line))
            o.write(line + "\n")
            written += len(line) + 1
            lines += 1
    print("%s: %d bytes, %d lines (%.0f bytes/line), %d drops/audits (%.1f%%)"
          % (out, written, lines, written / lines, drops, 100.0 * drops / lines), file=sys.stderr)


if __name__ == "__main__":
    main()
