#!/usr/bin/env python3
"""The image's root file system, built and run without a container engine.

scripts/image-rootfs.sh is what the Dockerfile's rootfs stage runs, and the runtime stage is
`FROM scratch` plus its result; here it assembles a root from this build's netpol, the pinned
helm and the real Cilium chart, and the root is checked with chroot as the image would run:

- at most 120 MB (SPEC §10), measured with du; the parts are printed;
- `netpol version` names the bundled chart and its digest, as root and as uid 10001;
- a job's `script:` line runs in its /bin/sh and finds helm on the image's PATH;
- every file is owned by root except /home/netpol (10001), /tmp is 1777, nothing is setuid;
- the only libraries are the ones ldd names for netpol (and the loader), nothing else is there
  but the listed files;
- the CA bundle is where libcurl looks by default, and SSL_CERT_FILE replaces it (a TLS server
  with a self-signed certificate, reached from inside the root).

chroot needs root. Environment:
  NETPOL_BINARY  the netpol to put in (default build/release/netpol, else build/dev/netpol)
  NETPOL_CILIUM_CHARTS_DIR  directory holding cilium-<version>.tgz of the real chart
  HELM           helm binary (default: scripts/test-cluster/get-helm.sh 3)
  BUSYBOX        static busybox (default /bin/busybox, Debian's busybox-static)
Without one of these (or not root) the tests skip; under CI=true they fail.
"""

import hashlib
import http.server
import os
import re
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gitlab_ci  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/image-rootfs.sh"
LIMIT_BYTES = 120 * 1000 * 1000
NETPOL_UID = 10001
CHART = "/usr/share/netpol/charts/cilium.tgz"


def cpp_constant(name):
    text = (ROOT / "src/cilium/defaults.hpp").read_text()
    return re.search(rf'{name} = "([^"]*)"', text).group(1)


def image_env():
    """The runtime stage's ENV (PATH, SSL_CERT_FILE), as the Dockerfile sets it."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.rindex("\nFROM "):]
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", runtime, re.MULTILINE).group(1)
    return dict(re.findall(r"(\w+)=(\S+)", block.replace("\\\n", " ")))


def find_inputs():
    """(netpol, helm, chart, busybox, problem): problem names what is missing."""
    if os.geteuid() != 0 or not shutil.which("chroot"):
        return None, None, None, None, "chroot needs root"
    netpol = os.environ.get("NETPOL_BINARY")
    if not netpol:
        netpol = next((str(p) for p in (ROOT / "build/release/netpol", ROOT / "build/dev/netpol")
                       if p.exists()), "")
    if not netpol or not os.access(netpol, os.X_OK):
        return None, None, None, None, "netpol binary not found (NETPOL_BINARY)"
    helm = os.environ.get("HELM")
    if not helm:
        out = subprocess.run([str(ROOT / "scripts/test-cluster/get-helm.sh"), "3"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            return None, None, None, None, f"helm unavailable: {out.stderr.strip()}"
        helm = out.stdout.strip().splitlines()[-1]
    version = cpp_constant("k_chart_version")
    charts_dir = os.environ.get("NETPOL_CILIUM_CHARTS_DIR", "")
    chart = Path(charts_dir) / f"cilium-{version}.tgz"
    if not charts_dir or not chart.is_file():
        return None, None, None, None, (f"real Cilium chart {version} not found "
                                        f"(NETPOL_CILIUM_CHARTS_DIR={charts_dir})")
    busybox = os.environ.get("BUSYBOX", "/bin/busybox")
    if not os.access(busybox, os.X_OK):
        return None, None, None, None, f"{busybox} not found (Debian: busybox-static)"
    return netpol, helm, str(chart), busybox, None


def pinned_digest(version):
    for line in (ROOT / "charts/cilium-charts.sha256").read_text().splitlines():
        if line.endswith(f"  cilium-{version}.tgz"):
            return line.split()[0]
    raise AssertionError(f"cilium-{version}.tgz is not pinned")


def du_bytes(*paths):
    """Disk usage in bytes (du -s --block-size=1), what an unpacked layer takes."""
    out = subprocess.run(["du", "-s", "--block-size=1", "--total", *map(str, paths)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.splitlines()[-1].split()[0])


def ldd_paths(binary):
    """The libraries and the loader ldd names for binary, as absolute paths."""
    out = subprocess.run(["ldd", str(binary)], check=True, capture_output=True, text=True).stdout
    paths = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "=>" and fields[2].startswith("/"):
            paths.add(fields[2])
        elif fields and fields[0].startswith("/"):
            paths.add(fields[0])
    return paths


class ImageRootfsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.netpol, cls.helm, cls.chart, cls.busybox, problem = find_inputs()
        if problem:
            gitlab_ci.skip_or_fail(problem)
        cls.tmp = Path(tempfile.mkdtemp(prefix="netpol-rootfs."))
        cls.root = cls.tmp / "root"
        start = time.monotonic()
        out = subprocess.run(
            [str(SCRIPT), str(cls.root), cls.netpol, cls.helm, cls.chart],
            env={**os.environ, "BUSYBOX": cls.busybox}, capture_output=True, text=True)
        if out.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError(f"image-rootfs.sh failed:\n{out.stderr}")
        print(f"rootfs assembled in {time.monotonic() - start:.1f} s", file=sys.stderr)
        cls.env = image_env()
        cls.chart_version = cpp_constant("k_chart_version")
        cls.digest = pinned_digest(cls.chart_version)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def chroot(self, *command, user=None, env=None, check=True):
        args = ["chroot"]
        if user is not None:
            args.append(f"--userspec={user}:{user}")
        # Only the image's environment: nothing of this machine's leaks in.
        home = "/home/netpol" if user == NETPOL_UID else "/"
        full_env = {**self.env, "HOME": home, **(env or {})}
        out = subprocess.run([*args, str(self.root), *command], env=full_env,
                             capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(out.returncode, 0, f"{command}: {out.stdout}{out.stderr}")
        return out

    def test_size_is_within_the_budget(self):
        parts = {
            "libraries": [p for p in (self.root / d for d in ("lib", "lib64", "usr/lib"))
                          if p.exists()],
            "netpol": [self.root / "usr/local/bin/netpol"],
            "helm": [self.root / "usr/local/bin/helm"],
            "chart": [self.root / CHART.lstrip("/")],
            "shell": [self.root / "bin/busybox"],
            "CA bundle": [self.root / "etc/ssl/certs/ca-certificates.crt"],
            "package records": [self.root / "var/lib/dpkg", self.root / "usr/share/doc"],
        }
        total = du_bytes(self.root)
        for name, paths in parts.items():
            print(f"  {name:<16} {du_bytes(*paths) / 1e6:7.2f} MB", file=sys.stderr)
        print(f"  {'total':<16} {total / 1e6:7.2f} MB (limit {LIMIT_BYTES / 1e6:.0f} MB)",
              file=sys.stderr)
        self.assertLessEqual(total, LIMIT_BYTES)

    def test_netpol_version_names_the_chart_and_its_digest(self):
        out = self.chroot("/usr/local/bin/netpol", "version")
        self.assertEqual(out.stdout.splitlines()[-1],
                         f"cilium chart {self.chart_version} ({CHART}, sha256 {self.digest})")
        with open(self.root / CHART.lstrip("/"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), self.digest)

    def test_script_lines_run_in_the_shell_with_helm_on_the_path(self):
        out = self.chroot("/bin/sh", "-c", "helm version --short")
        self.assertRegex(out.stdout, r"^v3\.\d+\.\d+")
        # What a job's script does besides netpol: files, pipes, the chart through helm.
        out = self.chroot(
            "/bin/sh", "-c",
            f"set -eu; cd /tmp; echo ok | tee out.txt | grep -q ok; rm out.txt; "
            f"helm show chart {CHART} | sed -n 's/^version: //p'",
            user=NETPOL_UID)
        self.assertEqual(out.stdout.strip(), self.chart_version)

    def test_netpol_runs_as_uid_10001_without_write_access_to_the_image(self):
        out = self.chroot(
            "/bin/sh", "-c",
            "set -e; id -u; id -g; id -un; cd; pwd; touch here /tmp/there; rm here /tmp/there; "
            "netpol version | tail -n 1; touch /usr/local/bin/x 2>/dev/null || echo read-only",
            user=NETPOL_UID)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[:4], [str(NETPOL_UID), str(NETPOL_UID), "netpol", "/home/netpol"])
        self.assertIn(f"sha256 {self.digest}", lines[4])
        self.assertEqual(lines[5], "read-only")

    def test_owners_and_modes(self):
        owned_by_netpol = {Path("home/netpol")}
        for path in [self.root, *self.root.rglob("*")]:
            rel = path.relative_to(self.root)
            st = path.lstat()
            with self.subTest(path=str(rel)):
                owner = (NETPOL_UID, NETPOL_UID) if rel in owned_by_netpol else (0, 0)
                self.assertEqual((st.st_uid, st.st_gid), owner)
                self.assertFalse(st.st_mode & (stat.S_ISUID | stat.S_ISGID))
                if not stat.S_ISLNK(st.st_mode) and rel != Path("tmp"):
                    self.assertFalse(st.st_mode & stat.S_IWOTH, "world-writable")
        self.assertEqual(stat.S_IMODE((self.root / "tmp").stat().st_mode), 0o1777)
        passwd = (self.root / "etc/passwd").read_text()
        self.assertIn(f"netpol:x:{NETPOL_UID}:{NETPOL_UID}:netpol:/home/netpol:/bin/sh\n", passwd)
        self.assertIn(f"netpol:x:{NETPOL_UID}:\n", (self.root / "etc/group").read_text())

    def test_only_the_listed_files_and_the_libraries_ldd_names(self):
        libs = ldd_paths(self.root / "usr/local/bin/netpol")
        self.assertTrue(any("libcurl" in p for p in libs), libs)
        expected = {p.lstrip("/") for p in libs} | {
            "usr/local/bin/netpol", "usr/local/bin/helm", CHART.lstrip("/"), "bin/busybox",
            "etc/passwd", "etc/group", "etc/nsswitch.conf", "etc/os-release",
            "etc/ssl/certs/ca-certificates.crt",
        }
        files, records = set(), set()
        for path in self.root.rglob("*"):
            rel = str(path.relative_to(self.root))
            if path.is_symlink():
                # The busybox applets, and nothing else.
                self.assertEqual(os.readlink(path), "/bin/busybox", rel)
            elif path.is_file():
                if rel.startswith("var/lib/dpkg/status.d/") or re.fullmatch(
                        r"usr/share/doc/[^/]+/copyright", rel):
                    records.add(rel)
                else:
                    files.add(rel)
        self.assertEqual(files, expected)
        # The Debian packages of those files are on record for scanners, each with its licence.
        packages = {r.rsplit("/", 1)[1] for r in records if r.startswith("var/lib/dpkg/")}
        self.assertTrue({"libc6", "libcurl4", "busybox-static", "ca-certificates"} <= packages,
                        packages)
        for pkg in packages:
            text = (self.root / "var/lib/dpkg/status.d" / pkg).read_text()
            self.assertTrue(text.startswith(f"Package: {pkg}\n"), pkg)
            self.assertRegex(text, r"(?m)^Version: \S+$")
        for name in ("sh", "env", "cat", "grep", "sed", "tar", "mkdir"):
            self.assertTrue(any(os.path.lexists(self.root / d / name)
                                for d in ("bin", "sbin", "usr/bin", "usr/sbin")), name)

    def test_ca_bundle_is_the_default_and_ssl_cert_file_replaces_it(self):
        bundle = self.root / "etc/ssl/certs/ca-certificates.crt"
        self.assertIn("-----BEGIN CERTIFICATE-----", bundle.read_text())
        self.assertEqual(self.env.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt")
        if not shutil.which("openssl"):
            gitlab_ci.skip_or_fail("openssl not found (a test certificate is made with it)")
        work = self.root / "tmp/tls"
        work.mkdir()
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "1", "-subj", "/CN=netpol test server",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
            check=True, capture_output=True)
        requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                requests.append(self.path)
                body = b'{"kind":"Status","status":"Failure","code":404}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(work / "cert.pem", work / "key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        port = server.server_address[1]
        (work / "kubeconfig").write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "https://127.0.0.1:{port}"}}
users:
- name: test
  user: {{token: not-a-secret}}
contexts:
- name: test
  context: {{cluster: test, user: test}}
current-context: test
""")
        command = ["/usr/local/bin/netpol", "--quiet", "--kubeconfig", "/tmp/tls/kubeconfig",
                   "--output-dir", "/tmp/tls-report", "--request-timeout", "5s", "detect"]
        self.addCleanup(shutil.rmtree, self.root / "tmp/tls-report", ignore_errors=True)
        # The image's bundle: found and read, and it does not trust the test server.
        out = self.chroot(*command, user=NETPOL_UID, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("TLS certificate not trusted", out.stderr)
        self.assertNotIn("error setting certificate", out.stderr)
        self.assertEqual(requests, [])
        # SSL_CERT_FILE naming the server's certificate: the requests go through.
        out = self.chroot(*command, user=NETPOL_UID, check=False,
                          env={"SSL_CERT_FILE": "/tmp/tls/cert.pem"})
        self.assertNotIn("not trusted", out.stderr)
        self.assertTrue(requests, out.stderr)


if __name__ == "__main__":
    unittest.main()
