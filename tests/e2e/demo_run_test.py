#!/usr/bin/env python3
"""The demo of scripts/demo.sh end to end against the test cluster: netpol-demo-cluster seeds
the app and a Cilium in audit mode and serves the agents' recorded Hubble lines as their
kubelet, then `netpol run` in mode enforce applies examples/shop and reads the drop log
through the real API server's pods/log proxy.

The test cluster is shared with the other end-to-end tests, so everything goes into fresh
namespaces (the app's and the Cilium objects'), and other Cilium-looking objects may be
there: the checks hold whichever Cilium detection reports.

Environment (set by ctest):
  NETPOL_TEST_CLUSTER_DIR  the running test cluster (its cluster.env)
  NETPOL_BINARY            the built netpol
  NETPOL_DEMO_CLUSTER      the built netpol-demo-cluster
"""

import json
import os
import secrets
import select
import shlex
import signal
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "examples/shop/.gitlab/network-policies"


def cluster_env():
    cluster_dir = os.environ.get("NETPOL_TEST_CLUSTER_DIR")
    if not cluster_dir:
        return None
    values = {}
    for line in (Path(cluster_dir) / "cluster.env").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            words = shlex.split(value)
            values[name] = words[0] if words else ""
    return values


class Cluster:
    """GETs against the test cluster as its admin (what the test checks, not what it seeds)."""

    def __init__(self, env):
        self.server = env["NETPOL_TEST_SERVER"]
        self.token = env["NETPOL_TEST_ADMIN_TOKEN"]
        self.tls = ssl.create_default_context(cafile=env["NETPOL_TEST_CA"])

    def get(self, path):
        request = urllib.request.Request(self.server + path,
                                         headers={"Authorization": "Bearer " + self.token})
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise


class DemoRun(unittest.TestCase):
    def setUp(self):
        env = cluster_env()
        if env is None:
            message = "NETPOL_TEST_CLUSTER_DIR is not set (run through ctest)"
            if os.environ.get("CI", "") not in ("", "false", "0"):
                self.fail(message + " (CI is set: the test cluster must be there)")
            self.skipTest(message)
        self.kubeconfig = env["NETPOL_TEST_KUBECONFIG"]
        self.cluster = Cluster(env)
        self.netpol = os.environ.get("NETPOL_BINARY", str(ROOT / "build/dev/netpol"))
        self.demo_cluster = os.environ.get("NETPOL_DEMO_CLUSTER",
                                           str(ROOT / "build/dev/tests/tools/netpol-demo-cluster"))
        self.ns = "demo-" + secrets.token_hex(4)
        self.cilium_ns = self.ns + "-cilium"
        self.node = self.ns + "-node"
        self.work = Path(tempfile.mkdtemp(prefix="netpol-demo-e2e-"))
        self.tool = None

    def tearDown(self):
        if self.tool is not None:
            if self.tool.poll() is None:
                self.tool.kill()
                self.tool.wait()
            self.tool.stdout.close()

    def start_demo_cluster(self):
        with open(self.work / "demo-cluster.log", "w") as log:
            self.tool = subprocess.Popen(
                [self.demo_cluster, "--kubeconfig", self.kubeconfig, "--namespace", self.ns,
                 "--cilium-namespace", self.cilium_ns, "--node", self.node],
                stdout=subprocess.PIPE, stderr=log, text=True)
        ready, _, _ = select.select([self.tool.stdout], [], [], 60)
        line = self.tool.stdout.readline() if ready else ""
        self.assertEqual(line, "ready\n",
                         (self.work / "demo-cluster.log").read_text() or "no output in 60 s")

    def run_netpol(self, out):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": str(self.work),
               "NO_COLOR": "1",
               "KUBECONFIG": self.kubeconfig,
               "CI_PROJECT_ID": "1",
               "CI_ENVIRONMENT_SLUG": "demo",
               "KUBE_NAMESPACE": self.ns,
               # The test cluster is shared: other tests' agents live in other namespaces.
               "CILIUM_NAMESPACE": self.cilium_ns,
               "NETWORK_POLICY_MODE": "enforce",
               "NETWORK_POLICY_PATH": str(POLICIES),
               "NETPOL_SINCE": "15m"}
        return subprocess.run([self.netpol, "--output-dir", str(out), "run"], env=env,
                              capture_output=True, text=True, timeout=300)

    def test_enforce_applies_the_example_and_reports_the_recorded_drops(self):
        self.start_demo_cluster()
        out = self.work / "netpol-report"
        r = self.run_netpol(out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # The summary: a Cilium, the three example policies applied, the drop log read.
        self.assertRegex(r.stdout, r"provider    cilium \S+ — ")
        self.assertIn("policies    mode enforce: 3 applied, 0 unchanged, 0 pruned", r.stdout)
        self.assertRegex(r.stdout, r"drop log    2 dropped, 3 audited flow\(s\) in 2 row\(s\) from ")

        live = self.cluster.get(f"/apis/networking.k8s.io/v1/namespaces/{self.ns}/networkpolicies")
        names = sorted(p["metadata"]["name"] for p in live["items"])
        self.assertEqual(names, ["api", "default-deny-ingress", "web"])
        for p in live["items"]:
            self.assertEqual(p["metadata"]["labels"]["app.gitlab.com/env"], "demo")

        # The drop log: the audited api → db connections and the world → web drops; the
        # forwarded web → api flows are not drops.
        summary = json.loads((out / "drop-summary.json").read_text())
        rows = {(row["verdict"], row["source"]["workload"], row["destination"]["workload"],
                 row["port"]): row for row in summary["rows"]}
        self.assertEqual(set(rows), {("AUDIT", "api", "db", 5432),
                                     ("DROPPED", "203.0.113.9", "web", 22)}, summary["rows"])
        audit = rows[("AUDIT", "api", "db", 5432)]
        self.assertEqual(audit["count"], 3)
        self.assertEqual(audit["source"]["namespace"], self.ns)
        self.assertEqual(audit["destination"]["pod"], "db-0")
        self.assertEqual(rows[("DROPPED", "203.0.113.9", "web", 22)]["count"], 2)
        # The agents started before the window: the first line of each log, read apart, says
        # their logs reach back before it, so nothing is a coverage gap.
        self.assertEqual([(c["source"].split("/")[1], c["gap"]) for c in summary["coverage"]],
                         [("cilium-4xk2p", False), ("cilium-9tq7w", False)], summary["coverage"])
        self.assertNotIn("coverage", r.stderr)
        text = (out / "drop-log.txt").read_text()
        self.assertIn("AUDIT", text)
        self.assertIn(f"{self.ns}/db:5432/TCP", text)
        self.assertNotIn(":8080/", text)

        # What the demo tells the reader to open.
        for name in ["drop-log.html", "plan.txt", "junit-run.xml", "junit-apply.xml",
                     "suggested-policy.yaml", "provider.json"]:
            self.assertTrue((out / name).is_file(), name)
        self.assertIn(f"NetworkPolicy/{self.ns}/api", (out / "plan.txt").read_text())
        self.assertIn('failures="0"', (out / "junit-run.xml").read_text())
        self.assertIn("allow-observed-db-ingress", (out / "suggested-policy.yaml").read_text())

        # Stopped, the tool takes its Cilium and node away again.
        self.tool.send_signal(signal.SIGTERM)
        self.assertEqual(self.tool.wait(timeout=60), 0,
                         (self.work / "demo-cluster.log").read_text())
        self.assertIsNone(
            self.cluster.get(f"/apis/apps/v1/namespaces/{self.cilium_ns}/daemonsets/cilium"))
        self.assertIsNone(self.cluster.get(f"/api/v1/nodes/{self.node}"))

    def test_example_policies_lint_clean(self):
        r = subprocess.run([self.netpol, "--output-dir", str(self.work / "lint"), "lint",
                            str(POLICIES), "-n", "shop", "--strict"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 objects, 0 invalid", r.stdout)


if __name__ == "__main__":
    unittest.main()
