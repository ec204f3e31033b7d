#!/usr/bin/env python3
"""The secrets sweep (SPEC §3: tokens, keys and certificates never appear in any output at any
log level): every subcommand runs against the test cluster at --log-level trace, as the CI job
would, holding a bearer token, a client key, an exec plugin's token, a URL password, secret CI
variables and a values file with a TLS key. Every byte netpol writes is then searched for each
secret, in every form it travels in: stdout, stderr, every file of every output directory, and
the objects netpol created in the cluster.

The runs are made to reach the paths where secrets leak: successful applies, a 403 from the
cluster (the exec plugin's user has no rights), a template that names ${CI_JOB_TOKEN}, an
import whose URL carries a password, a values file with a key, an unreachable server.

Environment (set by ctest):
  NETPOL_TEST_CLUSTER_DIR  the running test cluster (its cluster.env)
  NETPOL_BINARY            the built netpol
"""

import base64
import json
import os
import secrets
import shlex
import ssl
import subprocess
import sys
import tempfile
import textwrap
import unittest
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HUBBLE_SAMPLE = ROOT / "tests/data/hubble/hubble-flows-sample.jsonl"


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


def in_ci():
    """CI is set, and not "false" or "0": as tests/support/require.hpp and tests/ci decide."""
    return os.environ.get("CI", "") not in ("", "false", "0")


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def pem_body_lines(pem):
    """The base64 lines of a PEM block: each is a part of the key that must not appear."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


class SecretsSweep(unittest.TestCase):
    def setUp(self):
        env = cluster_env()
        if env is None:
            if in_ci():
                self.fail("NETPOL_TEST_CLUSTER_DIR is not set: the sweep needs the test cluster")
            self.skipTest("NETPOL_TEST_CLUSTER_DIR is not set (run through ctest)")
        self.cluster = env
        self.netpol = os.environ.get("NETPOL_BINARY", str(ROOT / "build/dev/netpol"))
        self.tmp = tempfile.TemporaryDirectory(prefix="netpol-sweep-")
        self.dir = Path(self.tmp.name)
        self.ns = "sweep-" + secrets.token_hex(4)
        self.create_namespace(self.ns)

        self.token = env["NETPOL_TEST_ADMIN_TOKEN"]
        self.exec_token = env["NETPOL_TEST_NOBODY_TOKEN"]
        self.client_key = Path(env["NETPOL_TEST_CLIENT_KEY"]).read_text()
        self.client_cert = Path(env["NETPOL_TEST_CLIENT_CERT"]).read_text()
        self.url_password = "urlpw-" + secrets.token_hex(8)
        self.job_token = "glcbt-64_" + secrets.token_hex(12)
        self.masked = "masked-" + secrets.token_hex(10)
        self.values_key = Path(env["NETPOL_TEST_CLIENT_CA_KEY"]).read_text()

        # Every form a secret travels in. The client key's PEM lines and its base64 (how a
        # kubeconfig carries it in client-key-data); the values file's key as base64 (how a
        # values file carries it).
        self.needles = {
            "bearer token": self.token,
            "exec plugin token": self.exec_token,
            "client key (base64)": b64(self.client_key),
            "URL password": self.url_password,
            "CI_JOB_TOKEN": self.job_token,
            "masked CI variable": self.masked,
            "values file key (base64)": b64(self.values_key),
        }
        for i, line in enumerate(pem_body_lines(self.client_key)):
            if len(line) >= 16:
                self.needles[f"client key line {i}"] = line
        for i, line in enumerate(pem_body_lines(self.values_key)):
            if len(line) >= 16:
                self.needles[f"values key line {i}"] = line

        self.write_inputs()

    def tearDown(self):
        self.tmp.cleanup()

    # --- the cluster, as its admin (what the test checks, not what netpol does) ---------------

    def api(self, method, path, body=None):
        request = urllib.request.Request(
            self.cluster["NETPOL_TEST_SERVER"] + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": "Bearer " + self.cluster["NETPOL_TEST_ADMIN_TOKEN"],
                     "Content-Type": "application/json"})
        tls = ssl.create_default_context(cafile=self.cluster["NETPOL_TEST_CA"])
        with urllib.request.urlopen(request, context=tls, timeout=30) as response:
            return json.load(response)

    def create_namespace(self, name):
        self.api("POST", "/api/v1/namespaces",
                 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    # --- inputs -----------------------------------------------------------------------------

    def write_inputs(self):
        server = self.cluster["NETPOL_TEST_SERVER"]
        ca = self.cluster["NETPOL_TEST_CA"]
        cluster = {"server": server, "certificate-authority": ca}

        def kubeconfig(name, user):
            path = self.dir / name
            path.write_text(json.dumps({
                "apiVersion": "v1", "kind": "Config", "current-context": "sweep",
                "clusters": [{"name": "test", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "sweep",
                              "context": {"cluster": "test", "user": "u", "namespace": self.ns}}],
            }))
            path.chmod(0o600)
            return str(path)

        # A bearer token and a client certificate at once (curl sends both).
        self.kc_token = kubeconfig("kc-token", {
            "token": self.token,
            "client-certificate-data": b64(self.client_cert),
            "client-key-data": b64(self.client_key),
        })
        # An exec plugin whose user has no rights: every cluster call ends in a 403, and the
        # plugin also writes its token to stderr, as chatty plugins do.
        plugin = self.dir / "plugin.sh"
        plugin.write_text(textwrap.dedent(f"""\
            #!/bin/sh
            echo "plugin: issued {self.exec_token}" >&2
            printf '%s' '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"{self.exec_token}"}}}}'
            """))
        plugin.chmod(0o700)
        self.kc_exec = kubeconfig("kc-exec", {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
            "interactiveMode": "Never", "env": [{"name": "PLUGIN_SECRET", "value": self.masked}]}})
        # The token toward a server that is not there (connection errors name the server).
        self.kc_down = str(self.dir / "kc-down")
        Path(self.kc_down).write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "down",
            "clusters": [{"name": "down", "cluster": {"server": "https://127.0.0.1:1",
                                                      "certificate-authority": ca}}],
            "users": [{"name": "u", "user": {"token": self.token}}],
            "contexts": [{"name": "down", "context": {"cluster": "down", "user": "u"}}]}))

        policy = textwrap.dedent(f"""\
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: web-${{CI_ENVIRONMENT_SLUG}}
              namespace: {self.ns}
              labels:
                project: ${{CI_PROJECT_PATH_SLUG}}
            spec:
              podSelector: {{matchLabels: {{app: web}}}}
              ingress:
              - from: [{{podSelector: {{matchLabels: {{app: api}}}}}}]
                ports: [{{port: 80}}]
            """)
        self.good = self.dir / "good"
        self.good.mkdir()
        (self.good / "web.yaml").write_text(policy)
        # A template that names the job token: exit 3, the value nowhere.
        self.templated = self.dir / "templated"
        self.templated.mkdir()
        (self.templated / "web.yaml").write_text(
            policy.replace("${CI_PROJECT_PATH_SLUG}", "x-${CI_JOB_TOKEN}"))
        # An import whose URL carries a password (the server is not there).
        self.imports = self.dir / "imports"
        self.imports.mkdir()
        (self.imports / "web.yaml").write_text(policy)
        (self.imports / "imports.yaml").write_text(
            f"imports:\n- url: https://netpol:{self.url_password}@127.0.0.1:1/base.yaml\n"
            f"  sha256: \"{'0' * 64}\"\n")
        # A values file with a TLS key, as values files carry them (base64 of the PEM).
        self.values = self.dir / "values.yaml"
        self.values.write_text(f"hubble:\n  tls:\n    server:\n      key: {b64(self.values_key)}\n")
        # An enforcing provider, so that apply writes (the test cluster runs none).
        self.provider = self.dir / "provider.json"
        self.provider.write_text(json.dumps({
            "kubernetes_version": "v1.20.2", "flavor": "generic",
            "provider": {"name": "calico", "version": None, "namespace": None,
                         "enforces_network_policy": True, "audit_mode": False,
                         "drop_log_source": "none", "ready": None, "confidence": "high"},
            "other_providers": [], "evidence": ["secrets sweep"]}))
        self.pods = self.dir / "pods.yaml"
        self.pods.write_text(textwrap.dedent(f"""\
            apiVersion: v1
            kind: Pod
            metadata: {{name: web-1, namespace: {self.ns}, labels: {{app: web}}}}
            spec: {{containers: [{{name: c, image: x}}]}}
            status: {{podIP: 10.0.0.5}}
            """))

    def environment(self, kubeconfig):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.dir),
            "KUBECONFIG": kubeconfig,
            "KUBE_NAMESPACE": self.ns,
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PROJECT_ID": "4242",
            "CI_PROJECT_PATH_SLUG": "group-shop",
            "CI_ENVIRONMENT_SLUG": "review-sweep",
            "CI_JOB_TOKEN": self.job_token,
            "CI_REGISTRY_PASSWORD": self.job_token + "-registry",
            "DEPLOY_API_TOKEN": self.masked,
            "NETPOL_LOG_LEVEL": "trace",
        }
        self.needles["CI_REGISTRY_PASSWORD"] = self.job_token + "-registry"
        return env

    # --- the sweep ----------------------------------------------------------------------------

    def commands(self):
        g, t, i = str(self.good), str(self.templated), str(self.imports)
        prov = str(self.provider)
        return [
            ["version"],
            ["detect"],
            ["lint", g],
            ["lint", t],
            ["lint", i],
            ["plan", "--policies", g],
            ["plan", "--policies", t],
            ["apply", "--policies", g, "--mode", "enforce", "--provider-file", prov],
            ["apply", "--policies", i, "--mode", "enforce", "--provider-file", prov],
            ["analyze", "--live", "--policies", g],
            ["analyze", "--pods-from", str(self.pods), "--policies", g],
            ["drops", "--from-file", str(HUBBLE_SAMPLE), "-A"],
            ["drops", "--since", "5m"],
            ["suggest", "--from-file", str(HUBBLE_SAMPLE), "-A"],
            # Into a namespace of its own, past refusals that depend on what other tests left
            # in the shared cluster (a Cilium not installed by helm in kube-system).
            ["install-cilium", "--dry-run", "--test-cluster", "--force", "--cilium-namespace",
             self.ns + "-cilium", "--values", str(self.values), "--chart",
             str(ROOT / "charts/cilium-test")],
            ["run", "--mode", "enforce", "--policies", g, "--no-drop-log"],
            ["remove"],
        ]

    def run_netpol(self, kubeconfig, label, args):
        out_dir = self.dir / "out" / label
        env = self.environment(kubeconfig)
        argv = [self.netpol, "--log-level", "trace", "--output-dir", str(out_dir),
                "--request-timeout", "20s"] + args
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300)
        return p, out_dir

    def assert_no_secret(self, where, data):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        for what, needle in self.needles.items():
            self.assertNotIn(needle, text, f"{what} found in {where}")

    def test_no_secret_in_any_output_at_trace_level(self):
        ran = 0
        bytes_checked = 0
        for variant, kubeconfig in [("token", self.kc_token), ("exec", self.kc_exec),
                                    ("down", self.kc_down)]:
            for n, args in enumerate(self.commands()):
                label = f"{variant}-{n}-{args[0]}"
                p, out_dir = self.run_netpol(kubeconfig, label, args)
                ran += 1
                # No crash, whatever the variant: a clean exit code of SPEC §3.
                self.assertIn(p.returncode, (0, 1, 2, 3, 4), f"{label}: {p.stderr[-2000:]!r}")
                self.assert_no_secret(f"{label} stdout", p.stdout)
                self.assert_no_secret(f"{label} stderr", p.stderr)
                bytes_checked += len(p.stdout) + len(p.stderr)
                if out_dir.exists():
                    for f in sorted(out_dir.rglob("*")):
                        if f.is_file():
                            data = f.read_bytes()
                            bytes_checked += len(data)
                            self.assert_no_secret(f"{label} {f.name}", data)
        values = next((self.dir / "out").glob("token-*-install-cilium/cilium-values.yaml"))
        # The key is masked before netpol writes the file, and quoted so YAML reads a string.
        self.assertIn('key: "[REDACTED]"', values.read_text())
        # The paths that matter were reached (below): an apply, trace lines, the refused
        # template, the 403, the import's URL. The cluster's objects: what netpol applied
        # (remove ran last, so after a fresh apply).
        p, _ = self.run_netpol(self.kc_token, "final-apply",
                               ["apply", "--policies", str(self.good), "--mode", "enforce",
                                "--provider-file", str(self.provider)])
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-3000:])
        self.assertIn(b"trace", p.stderr, "no trace-level line was written")
        objects = self.api("GET", f"/apis/networking.k8s.io/v1/namespaces/{self.ns}/networkpolicies")
        names = [o["metadata"]["name"] for o in objects["items"]]
        self.assertIn("web-review-sweep", names)
        self.assert_no_secret("the cluster's NetworkPolicies", json.dumps(objects))
        configmaps = self.api("GET", f"/api/v1/namespaces/{self.ns}/configmaps")
        self.assert_no_secret("the cluster's ConfigMaps", json.dumps(configmaps))
        p, _ = self.run_netpol(self.kc_token, "final-template",
                               ["plan", "--policies", str(self.templated)])
        self.assertEqual(p.returncode, 3)
        self.assertIn(b"template variable CI_JOB_TOKEN may not be read", p.stderr + p.stdout)
        p, _ = self.run_netpol(self.kc_exec, "final-exec", ["plan", "--policies", str(self.good)])
        self.assertEqual(p.returncode, 1, p.stderr.decode()[-3000:])
        self.assertIn(b"forbidden", p.stderr)
        self.assertIn(b"exec", p.stderr) # the plugin ran (trace shows it)
        p, _ = self.run_netpol(self.kc_token, "final-imports",
                               ["lint", str(self.imports)])
        self.assertIn(b"https://netpol:[REDACTED]@127.0.0.1:1/base.yaml", p.stdout + p.stderr)
        print(f"secrets sweep: {ran} runs, {len(self.needles)} secret forms, "
              f"{bytes_checked} bytes checked", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
