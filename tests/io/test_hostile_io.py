#!/usr/bin/env python3
"""What netpol reads and writes, tried as a hostile or careless user would, through the real
binary and with real readers of what it writes:

- the bad-input corpus (tests/data/bad-inputs/cases.json): every case gives its exit code
  and first error line, within its time limit, without a signal (no abort, no bad_alloc)
  and under a 1 GiB address-space limit; every YAML file it left in its output directory
  reads with PyYAML and every JUnit file with expat, whatever the exit code;
- YAML it writes (suggested-policy.yaml, policies.yaml of `plan`, cilium-values.yaml of
  `install-cilium --dry-run`) read back with PyYAML, a YAML 1.1 reader like Helm's and
  kubectl's, on adversarial label values, names, annotations and Helm values: every string
  comes back as the same string;
- JUnit it writes read with a real XML parser (expat, through xml.etree) on adversarial file
  names and flow fields: invalid UTF-8, controls, U+FFFE, newlines, "]]>".

Environment (set by ctest): NETPOL_BINARY, the built netpol.
"""

import json
import re
import os
import resource
import stat
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests/data/bad-inputs/cases.json"
NETPOL = os.environ.get("NETPOL_BINARY", str(ROOT / "build/dev/netpol"))
MEMORY_LIMIT = 1 << 30
TIME_LIMIT = 60


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(args, env=None, cwd=None):
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": cwd or "/nonexistent",
                "NO_COLOR": "1"}
    full_env.update(env or {})
    return subprocess.run([NETPOL] + args, env=full_env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=TIME_LIMIT, preexec_fn=limit_memory)


# --- generators for inputs that do not belong in a repository ---------------------------------

def alias_bomb(path):
    # The 495-byte "billion laughs": nine levels of nine aliases, 10^9 strings.
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    path.write_text("\n".join(lines) + "\n")


def big(path, size, head="# filler\n"):
    with open(path, "wb") as f:
        f.write(head.encode())
        f.truncate(size)


def million_pods(path):
    pod = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","namespace":"default"}}'
    with open(path, "w") as f:
        f.write('{"apiVersion":"v1","kind":"List","items":[')
        f.write(",".join(pod % i for i in range(1_000_000)))
        f.write("]}\n")


def generate(kind, path, case_dir):
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "alias_bomb":
        alias_bomb(path)
    elif kind == "big_50mb":
        big(path, 50 << 20)
    elif kind == "big_summary":
        big(path, 50 << 20, head="{\n")
    elif kind == "big_5mb":
        big(path, 5 << 20)
    elif kind == "big_70mb":
        big(path, 70 << 20)
    elif kind == "link_outside":
        os.symlink(case_dir / "outside.yaml", path)
    elif kind == "five_million_nodes":
        path.write_text("[" + "1," * 5_000_000 + "1]\n")
    elif kind == "million_block_nodes":
        path.write_text("- 1\n" * 1_100_000)
    elif kind == "million_pods":
        million_pods(path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link_dev_zero":
        os.symlink("/dev/zero", path)
    elif kind == "symlink_loop":
        os.symlink(path, path)
    elif kind == "link_to_policies":
        os.symlink(case_dir / "policies", path)
    elif kind == "deep_flow":
        path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    elif kind == "deep_block":
        path.write_text("".join(" " * i + "k:\n" for i in range(200)))
    elif kind == "invalid_utf8":
        path.write_bytes(b"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                         b"  name: caf\xe9\nspec:\n  podSelector: {}\n")
    elif kind == "nul_bytes":
        path.write_bytes(b"apiVersion: networking.k8s.io/v1\nkind: Network\x00Policy\n")
    elif kind == "escape_flow":
        path.write_text(json.dumps(flow("shop\x1b[2J\x1b]0;owned\x07\u009b31m", {"app": "db"},
                                        "db-0")) + "\n")
    else:
        raise ValueError("unknown generator " + kind)


def flow(namespace, labels, pod, verdict="DROPPED"):
    label_strings = [f"k8s:{k}={v}" for k, v in labels.items()]
    peer = {"namespace": namespace, "labels": label_strings, "pod_name": pod}
    return {"flow": {"time": "2026-11-26T10:00:00Z", "verdict": verdict,
                     "IP": {"source": "10.0.1.5", "destination": "10.0.2.7", "ipVersion": "IPv4"},
                     "l4": {"TCP": {"source_port": 40000, "destination_port": 5432}},
                     "source": {"namespace": "shop", "labels": ["k8s:app=frontend"],
                                "pod_name": "frontend-7d9f8b6c5d-x2x4z"},
                     "destination": peer, "Type": "L3_L4", "node_name": "kind-worker",
                     "event_type": {"type": 1}, "traffic_direction": "INGRESS",
                     "drop_reason_desc": "POLICY_DENIED"},
            "node_name": "kind-worker", "time": "2026-11-26T10:00:00Z"}


def first_error_line(text):
    for line in text.splitlines():
        if line.startswith("netpol: error:"):
            return line
    return ""


class BadInputCorpus(unittest.TestCase):
    def test_every_case_gives_its_exit_code_and_first_line(self):
        cases = json.loads(CASES.read_text())["cases"]
        by_class = {}
        for case in cases:
            with self.subTest(case["name"]), tempfile.TemporaryDirectory() as tmp:
                case_dir = Path(tmp)
                subst = lambda s: s.replace("{dir}", str(case_dir)).replace("{out}",
                                                                             str(case_dir / "out"))
                for name, spec in case.get("files", {}).items():
                    path = case_dir / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    if "text" in spec:
                        path.write_text(subst(spec["text"]))
                    else:
                        generate(spec["generate"], path, case_dir)
                args = ["--output-dir", str(case_dir / "out")] + [subst(a) for a in case["args"]]
                try:
                    p = run(args, env=case.get("env"), cwd=str(case_dir))
                except subprocess.TimeoutExpired:
                    self.fail(f"{case['name']}: hung (no answer in {TIME_LIMIT} s)")
                out = p.stdout.decode("utf-8", "replace")
                err = p.stderr.decode("utf-8", "replace")
                self.assertGreaterEqual(p.returncode, 0,
                                        f"{case['name']}: killed by signal {-p.returncode}: {err}")
                self.assertNotIn("internal error", err, case["name"])
                self.assertNotIn("out of memory", err, case["name"])
                self.assertEqual(p.returncode, case["exit"], f"{case['name']}: {err}{out}")
                stream = case.get("stream", "stderr")
                if stream == "stdout":
                    line = out.splitlines()[0] if out else ""
                elif stream == "stdout-any":
                    line = next((l for l in out.splitlines() if subst(case["first_line"]) in l), "")
                elif stream == "stderr-any":
                    line = next((l for l in err.splitlines() if subst(case["first_line"]) in l), "")
                else:
                    line = first_error_line(err)
                self.assertIn(subst(case["first_line"]), line, f"{case['name']}: {err}{out}")
                for never in case.get("never", []):
                    self.assertNotIn(never, out + err, case["name"])
                for name, nevers in case.get("files_never", {}).items():
                    text = (case_dir / "out" / name).read_text(errors="replace")
                    for never in nevers:
                        self.assertNotIn(never, text, f"{case['name']}: {name}")
                for name in case.get("files_exist", []):
                    self.assertTrue((case_dir / "out" / name).is_file(),
                                    f"{case['name']}: {name} was not written: {err}")
                for name, wanted in case.get("files_contain", {}).items():
                    text = (case_dir / "out" / name).read_text(errors="replace")
                    for want in wanted:
                        self.assertIn(subst(want), text, f"{case['name']}: {name}")
                self.check_written_files(case, case_dir / "out")
                by_class[case["class"]] = by_class.get(case["class"], 0) + 1
        print("bad-input corpus: " + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items()))
              + f" ({len(cases)} cases)", file=sys.stderr)


    def check_written_files(self, case, out):
        """Whatever a case wrote, on whatever path it took, reads as what it claims to be."""
        if not out.is_dir():
            return
        for path in sorted(out.glob("*.yaml")):
            try:
                documents = list(yaml.safe_load_all(path.read_text()))
            except yaml.YAMLError as e:
                self.fail(f"{case['name']}: {path.name} is not YAML: {e}")
            for where, expected in case.get("yaml_values", {}).get(path.name, []):
                value = documents
                for step in where.split("/"):
                    value = value[int(step)] if isinstance(value, list) else value[step]
                self.assertEqual(value, expected, f"{case['name']}: {path.name} {where}")
        for name in case.get("yaml_values", {}):
            self.assertTrue((out / name).is_file(), f"{case['name']}: {name} was not written")
        for path in sorted(out.glob("junit-*.xml")):
            try:
                root = ElementTree.parse(path).getroot()
            except ElementTree.ParseError as e:
                self.fail(f"{case['name']}: {path.name} is not well-formed XML: {e}")
            self.assertEqual(root.tag, "testsuites", f"{case['name']}: {path.name}")


ADVERSARIAL = ["Yes", "yes", "ON", "Off", "Y", "y", "N", "n", "~", "null", "NULL", "true",
               "False", ".nan", ".NaN", ".inf", "-.Inf", "0x1F", "017", "0o17", "0b101",
               "1_000", "1:20", "1e3", "1.", "+1", "-0", "2001-12-14", "2001-12-14T21:59:43Z",
               "<<", "=", "a:", "#c", "-", "?", "*x", "&x", "!x", "%x", "@x", "`x", "|", ">",
               "'q'", '"q"', "trail ", "é ü 日本", "😀", "tab\tx", "x\u0085y", "x\u2028y"]


class WrittenYamlReadsBack(unittest.TestCase):
    def test_suggested_policies_read_back_with_pyyaml(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            lines = []
            for i, value in enumerate(ADVERSARIAL):
                # Every value reaches the file: a valid label value as a label that must come
                # back as the same string, one Kubernetes would refuse as a note (a comment)
                # that must not break the YAML around it.
                lines.append(json.dumps(flow("shop", {"app": value, "k" + str(i): value},
                                             f"w{i}-0")))
            (tmp / "flows.jsonl").write_text("\n".join(lines) + "\n")
            p = run(["--output-dir", str(tmp / "out"), "suggest", "--from-file",
                     str(tmp / "flows.jsonl"), "-A"], cwd=str(tmp))
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            text = (tmp / "out/suggested-policy.yaml").read_text()
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
            self.assertTrue(documents, text)
            seen = set()
            for doc in documents:
                labels = doc["spec"]["podSelector"]["matchLabels"]
                for key, value in labels.items():
                    self.assertIsInstance(key, str, text)
                    self.assertIsInstance(value, str, f"{key}: {value!r} in\n{text}")
                    seen.add(value)
            label_value = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
            valid = {v for v in ADVERSARIAL if len(v) <= 63 and label_value.match(v)}
            self.assertEqual(seen, valid, text)
            self.assertIn("not suggested, the API server would refuse it", text)
            self.assertGreater(len(valid), 15)


    def test_plan_policies_read_back_with_pyyaml(self):
        # Annotation values may be any string; label values and selector values only those
        # Kubernetes accepts. `plan` writes policies.yaml once the policies check out, before
        # it compares them with the cluster (here unreachable: exit 1).
        label_value = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
        valid = [v for v in ADVERSARIAL if len(v) <= 63 and label_value.match(v)]
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "policies").mkdir()
            policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "adversarial",
                                   "labels": {f"k{i}": v for i, v in enumerate(valid)},
                                   "annotations": {f"netpol.test/a{i}": v
                                                   for i, v in enumerate(ADVERSARIAL)}},
                      "spec": {"podSelector": {"matchLabels": {f"k{i}": v
                                                               for i, v in enumerate(valid)}},
                               "policyTypes": ["Ingress"]}}
            (tmp / "policies/p.json").write_text(json.dumps(policy, ensure_ascii=False))
            (tmp / "kc").write_text(UNREACHABLE_KUBECONFIG)
            p = run(["--kubeconfig", str(tmp / "kc"), "--output-dir", str(tmp / "out"), "plan",
                     "--policies", str(tmp / "policies")], cwd=str(tmp),
                    env={"CI_PROJECT_ID": "77", "CI_ENVIRONMENT_SLUG": "review"})
            self.assertEqual(p.returncode, 1, p.stderr.decode())
            self.assertIn(b"cannot connect", p.stderr)
            text = (tmp / "out/policies.yaml").read_text()
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
            self.assertEqual(len(documents), 1, text)
            metadata = documents[0]["metadata"]
            for i, value in enumerate(ADVERSARIAL):
                self.assertEqual(metadata["annotations"][f"netpol.test/a{i}"], value, text)
            for i, value in enumerate(valid):
                self.assertEqual(metadata["labels"][f"k{i}"], value, text)
                self.assertEqual(documents[0]["spec"]["podSelector"]["matchLabels"][f"k{i}"],
                                 value, text)
            self.assertGreater(len(valid), 15)

    def test_cilium_values_read_back_with_pyyaml(self):
        # install-cilium --dry-run writes cilium-values.yaml: netpol's values with the user's
        # --values merged over them. Detection needs an API server; a loopback one that knows
        # of nothing (an empty cluster) is enough, and plain http to loopback without
        # credentials needs no certificate.
        values = {"podAnnotations": {f"a{i}": v for i, v in enumerate(ADVERSARIAL)},
                  "extraArgs": list(ADVERSARIAL),
                  "nodeSelector": {v: v for v in ADVERSARIAL if v.strip()}}
        with tempfile.TemporaryDirectory() as tmp, EmptyApiServer() as server:
            tmp = Path(tmp)
            (tmp / "values.yaml").write_text(json.dumps(values, ensure_ascii=False))
            (tmp / "kc").write_text(UNREACHABLE_KUBECONFIG.replace("https://127.0.0.1:1",
                                                                   server.url))
            p = run(["--kubeconfig", str(tmp / "kc"), "--output-dir", str(tmp / "out"),
                     "install-cilium", "--dry-run", "--values", str(tmp / "values.yaml"),
                     "--chart", str(ROOT / "charts/cilium-test"), "--test-cluster",
                     "--helm", "/nonexistent/helm"], cwd=str(tmp))
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            text = (tmp / "out/cilium-values.yaml").read_text()
            written = yaml.safe_load(text)
            for key, value in values.items():
                self.assertEqual(written[key], value, text)


UNREACHABLE_KUBECONFIG = """clusters:
- name: k
  cluster:
    server: https://127.0.0.1:1
users:
- name: u
  user: {}
contexts:
- name: c
  context: {cluster: k, user: u}
current-context: c
"""


class EmptyApiServer:
    """A Kubernetes API server that serves no objects: /version, discovery without groups, an
    empty list for every list and allowed access reviews, over plain http on 127.0.0.1."""

    def __enter__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/version":
                    self.answer(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0"})
                elif path == "/api":
                    self.answer(200, {"kind": "APIVersions", "versions": ["v1"]})
                elif path == "/apis":
                    self.answer(200, {"kind": "APIGroupList", "groups": []})
                elif path.rstrip("/").count("/") in (3, 5) or path.startswith("/apis/"):
                    self.answer(200, {"kind": "List", "items": [], "metadata": {}})
                else:
                    self.answer(404, {"kind": "Status", "status": "Failure", "code": 404,
                                      "reason": "NotFound", "message": "not found"})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.answer(201, {"status": {"allowed": True}})

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class JUnitIsWellFormed(unittest.TestCase):
    def parse(self, path):
        root = ElementTree.parse(path).getroot()  # expat: raises on anything ill-formed
        self.assertEqual(root.tag, "testsuites")
        return root

    def test_lint_report_with_hostile_file_names(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            policies = tmp / "policies"
            policies.mkdir()
            names = [b"bad\xff\xfeutf8.yaml", b"ctl\x1b[31m\x01\x08.yaml", b"nl\nin\nname.yaml",
                     "nonchar\ufffe.yaml".encode(), b"cdata]]>end.yaml", b"q\"'<&>.yaml"]
            for n in names:
                with open(os.path.join(bytes(policies), n), "w") as f:
                    f.write("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                            "  name: Bad_Name]]>\nspec:\n  podSelector: {}\n")
            p = run(["--output-dir", str(tmp / "out"), "lint", str(policies)], cwd=str(tmp))
            self.assertEqual(p.returncode, 3, p.stderr.decode())
            root = self.parse(tmp / "out/junit-lint.xml")
            failures = root.findall(".//failure")
            self.assertGreaterEqual(len(failures), len(names))
            text = ElementTree.tostring(root, encoding="unicode")
            self.assertIn("]]&gt;", text)
            messages = " ".join(f.get("message") for f in failures)
            self.assertIn("nl\nin\nname.yaml", messages)  # newlines kept, as references

    def test_drops_report_with_hostile_flow_fields(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            odd = ["ns\x1b]0;t\x07", "ns\ufffe", "ns]]>", "ns\nline", "ns\u0085"]
            lines = [json.dumps(flow(ns, {"app": "x]]>\x0b"}, "p-" + str(i)))
                     for i, ns in enumerate(odd)]
            (tmp / "flows.jsonl").write_text("\n".join(lines) + "\n")
            p = run(["--output-dir", str(tmp / "out"), "drops", "--from-file",
                     str(tmp / "flows.jsonl"), "-A"], cwd=str(tmp))
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            root = self.parse(tmp / "out/junit-drops.xml")
            self.assertGreaterEqual(len(root.findall(".//testcase")), len(odd))
            self.assertNotIn(b"\x1b", p.stdout)
            self.assertNotIn(b"\x1b", (tmp / "out/drop-log.txt").read_bytes())


if __name__ == "__main__":
    if not Path(NETPOL).exists():
        print(f"{NETPOL} does not exist: build netpol first", file=sys.stderr)
        sys.exit(1)
    unittest.main()
