#!/usr/bin/env python3
"""Tests of the CI templates in ci-templates/ and of the project's own .gitlab-ci.yml.

- Every template, rendered with its defaults and with custom inputs the way GitLab
  interpolates `$[[ inputs.x ]]`, validates against GitLab's CI schema (tests/data/gitlab/ci.json).
- The component's inputs, variables, script, artifacts and rules are the ones SPEC'd.
- The Auto DevOps jobs line up with GitLab's Auto DevOps deploy jobs (tests/ci/fixtures):
  same stage and environment, `needs` on them, and present in exactly the pipelines the deploy
  jobs are in (checked over every combination of the variables their rules read).
- Under gitlab-ci-local (4.70.0) the templates list, preview and run as GitLab would run them:
  the job runs the real `netpol` binary (NETPOL_BINARY, else build/dev/netpol).

Needs Debian's python3-yaml and python3-jsonschema. Environment:
  NETPOL_BINARY         the built netpol (default build/dev/netpol)
  GITLAB_CI_LOCAL       gitlab-ci-local executable (default: scripts/test-cluster/get-gitlab-ci-local.sh)
  NETPOL_TEST_CLUSTER_DIR  the running test cluster, for the full `netpol run` job
"""

import itertools
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gitlab_ci  # noqa: E402
from gitlab_ci import GitLabError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "tests/data/gitlab/ci.json"
COMPONENT = ROOT / "ci-templates/network-policy.yml"
COMPONENT_RELEASED = ROOT / "templates/network-policy.yml"
AUTO_DEVOPS = ROOT / "ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml"
DEPLOY_FIXTURE = ROOT / "tests/ci/fixtures/Jobs-Deploy.gitlab-ci.yml"
PROJECT_CI = ROOT / ".gitlab-ci.yml"
TEMPLATES = [COMPONENT, AUTO_DEVOPS]

# SPEC §9: the component's inputs.
SPEC_INPUTS = {
    "stage", "image", "mode", "policies_path", "default_policy", "install_cilium",
    "cilium_version", "cilium_audit_mode", "drop_log", "fail_on_drops", "fail_on_new_drops",
    "require_enforcement", "namespace", "kube_context", "environment", "job_prefix",
    "timeout", "expire_in", "artifacts_access", "remove_on_stop",
}
# SPEC §4: the CI variable each input sets, and its default there.
INPUT_VARIABLES = {
    "mode": ("NETWORK_POLICY_MODE", "off"),
    "policies_path": ("NETWORK_POLICY_PATH", ".gitlab/network-policies"),
    "default_policy": ("NETWORK_POLICY_DEFAULT", "none"),
    "require_enforcement": ("NETWORK_POLICY_REQUIRE_ENFORCEMENT", False),
    "drop_log": ("NETWORK_POLICY_DROP_LOG", True),
    "fail_on_drops": ("NETWORK_POLICY_FAIL_ON_DROPS", False),
    "fail_on_new_drops": ("NETWORK_POLICY_FAIL_ON_NEW_DROPS", False),
    "install_cilium": ("CILIUM_INSTALL", False),
    "cilium_version": ("CILIUM_VERSION", ""),  # empty: the version pinned in the image
    "cilium_audit_mode": ("CILIUM_AUDIT_MODE", True),
}
CLOSED_SETS = {"mode": ["off", "audit", "enforce"],
               "default_policy": ["none", "gitlab", "namespace-isolation"]}
# Every variable netpol reads (SPEC §3, §4), and the keys of netpol.env (SPEC §5).
NETPOL_READS = {
    "KUBECONFIG", "KUBE_CONTEXT", "KUBE_NAMESPACE", "NETPOL_OUTPUT_DIR", "NETPOL_LOG_LEVEL",
    "NO_COLOR", "NETPOL_SINCE", "NETWORK_POLICY_MODE", "NETWORK_POLICY_PATH",
    "NETWORK_POLICY_DEFAULT", "NETWORK_POLICY_PRUNE", "NETWORK_POLICY_REQUIRE_ENFORCEMENT",
    "NETWORK_POLICY_DROP_LOG", "NETWORK_POLICY_FAIL_ON_DROPS", "NETWORK_POLICY_FAIL_ON_NEW_DROPS",
    "NETPOL_PREVIOUS_SUMMARY", "NETWORK_POLICY_DISABLED",
    "CILIUM_INSTALL", "CILIUM_VERSION", "CILIUM_CHART", "CILIUM_AUDIT_MODE", "CILIUM_VALUES_FILE",
}
DOTENV_KEYS = {"NETPOL_FLAVOR", "NETPOL_PROVIDER", "NETPOL_PROVIDER_VERSION", "NETPOL_ENFORCES",
               "NETPOL_AUDIT_MODE", "NETPOL_DROP_LOG_SOURCE"}

CUSTOM_INPUTS = {
    "job_prefix": "staging:",
    "stage": "verify",
    "image": "registry.example.com/mirror/netpol:0.1.0@sha256:" + "ab" * 32,
    "environment": "staging",
    "namespace": "shop staging",
    "kube_context": "group/agents:production",
    "mode": "enforce",
    "policies_path": "deploy/policies",
    "default_policy": "namespace-isolation",
    "require_enforcement": True,
    "drop_log": False,
    "fail_on_drops": True,
    "fail_on_new_drops": True,
    "install_cilium": True,
    "cilium_version": "1.18.2",
    "cilium_audit_mode": False,
}

# Stages of GitLab's Auto-DevOps.gitlab-ci.yml, in order.
AUTO_DEVOPS_STAGES = [
    "build", "test", "deploy", "review", "dast", "staging", "canary", "production",
    "incremental rollout 10%", "incremental rollout 25%", "incremental rollout 50%",
    "incremental rollout 100%", "performance", "cleanup",
]
# Each Auto DevOps network-policy job and the deploy jobs it follows.
FOLLOWS = {
    "review:network-policy": ["review"],
    "staging:network-policy": ["staging"],
    "canary:network-policy": ["canary"],
    "production:network-policy": ["production", "production_manual", "rollout 100%"],
    "rollout 10%:network-policy": ["rollout 10%"],
    "rollout 25%:network-policy": ["rollout 25%"],
    "rollout 50%:network-policy": ["rollout 50%"],
    "timed rollout 10%:network-policy": ["timed rollout 10%"],
    "timed rollout 25%:network-policy": ["timed rollout 25%"],
    "timed rollout 50%:network-policy": ["timed rollout 50%"],
    "timed rollout 100%:network-policy": ["timed rollout 100%"],
}
# The job that removes a review app's policies, and the stop job it follows.
STOPS = {"stop_review:network-policy": ["stop_review"]}
# Every variable the deploy jobs' and our rules read, with the values worth trying.
RULE_VARIABLES = {
    "CI_KUBERNETES_ACTIVE": [None, "true"],
    "KUBECONFIG": [None, "", "/builds/tmp/KUBECONFIG"],
    "CI_COMMIT_BRANCH": [None, "main", "feature"],
    "CI_COMMIT_TAG": [None, "1.0.0"],
    "REVIEW_DISABLED": [None, "true"],
    "STAGING_ENABLED": [None, "1"],
    "CANARY_ENABLED": [None, "1"],
    "INCREMENTAL_ROLLOUT_MODE": [None, "manual", "timed"],
    "INCREMENTAL_ROLLOUT_ENABLED": [None, "1"],
    "CI_DEPLOY_FREEZE": [None, "true"],
    "NETWORK_POLICY_DISABLED": [None, "true"],
    "CILIUM_INSTALL": [None, "true", "false"],
}


def all_rule_variable_sets():
    names = list(RULE_VARIABLES)
    for combo in itertools.product(*(RULE_VARIABLES[n] for n in names)):
        variables = {n: v for n, v in zip(names, combo) if v is not None}
        variables["CI_DEFAULT_BRANCH"] = "main"
        yield variables


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(netpol VERSION (\S+)", text).group(1)


def schema_validator():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.load(f)
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator, document):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


# ---------------------------------------------------------------------------------------


class SchemaTest(unittest.TestCase):
    """Each document GitLab would see validates against GitLab's own CI schema."""

    @classmethod
    def setUpClass(cls):
        cls.validator = schema_validator()

    def assert_valid(self, document, what):
        errors = schema_errors(self.validator, document)
        self.assertEqual(errors, [], f"{what} does not validate against ci.json")

    def test_templates_with_default_inputs(self):
        for path in TEMPLATES:
            spec, _ = gitlab_ci.load_template(path)
            self.assertIsNotNone(spec, f"{path.name} has a spec: header")
            self.assert_valid({"spec": spec}, f"{path.name} header")
            self.assert_valid(gitlab_ci.render(path), f"{path.name} with default inputs")

    def test_component_with_custom_inputs(self):
        self.assert_valid(gitlab_ci.render(COMPONENT, CUSTOM_INPUTS), "component, custom inputs")

    def test_auto_devops_with_custom_image(self):
        body = gitlab_ci.render(AUTO_DEVOPS, {"image": CUSTOM_INPUTS["image"]})
        self.assert_valid(body, "Auto DevOps template, custom image")

    def test_project_pipeline(self):
        _, body = gitlab_ci.load_template(PROJECT_CI)
        self.assert_valid(body, ".gitlab-ci.yml")

    def test_schema_rejects_what_gitlab_rejects(self):
        # The validator is live: a broken job fails it.
        body = gitlab_ci.render(COMPONENT)
        job = body["network-policy"]
        job["artifacts"]["when"] = "sometimes"
        self.assertTrue(schema_errors(self.validator, body))


class ComponentInputsTest(unittest.TestCase):
    def setUp(self):
        self.spec, _ = gitlab_ci.load_template(COMPONENT)
        self.inputs = self.spec["inputs"]

    def test_inputs_are_the_specified_ones(self):
        self.assertEqual(set(self.inputs), SPEC_INPUTS)

    def test_every_input_states_type_description_and_default(self):
        for name, decl in self.inputs.items():
            with self.subTest(input=name):
                self.assertIn(decl.get("type"), ("string", "boolean", "number", "array"))
                self.assertTrue(decl.get("description", "").strip())
                self.assertIn("default", decl)

    def test_defaults_are_the_variables_defaults(self):
        for name, (_, default) in INPUT_VARIABLES.items():
            with self.subTest(input=name):
                self.assertEqual(self.inputs[name]["default"], default)
                self.assertEqual(type(self.inputs[name]["default"]), type(default))

    def test_closed_sets_list_their_options(self):
        for name, options in CLOSED_SETS.items():
            with self.subTest(input=name):
                self.assertEqual(self.inputs[name]["options"], options)
                self.assertIn(self.inputs[name]["default"], options)

    def test_gitlab_rejects_wrong_inputs(self):
        cases = [
            ({"mode": "block"}, "not in the list of allowed options"),
            ({"mode": False}, "not a string"),  # YAML 1.1: an unquoted `off` is false
            ({"default_policy": "deny-all"}, "not in the list of allowed options"),
            ({"drop_log": "yes"}, "not a boolean"),
            ({"install_cilium": "true"}, "not a boolean"),
            ({"prune": True}, "unknown input arguments: prune"),
        ]
        for given, message in cases:
            with self.subTest(given=given):
                with self.assertRaisesRegex(GitLabError, message):
                    gitlab_ci.render(COMPONENT, given)

    def test_image_default_is_this_release(self):
        for path in TEMPLATES:
            spec, _ = gitlab_ci.load_template(path)
            image = spec["inputs"]["image"]["default"]
            self.assertTrue(image.endswith(":" + project_version()),
                            f"{path.name}: image {image} is not version {project_version()}")

    def test_released_copy_is_identical(self):
        # GitLab resolves `include: component:` from templates/ of the component project.
        self.assertEqual(COMPONENT_RELEASED.read_bytes(), COMPONENT.read_bytes(),
                         "templates/network-policy.yml must be a copy of "
                         "ci-templates/network-policy.yml")


class ComponentJobTest(unittest.TestCase):
    def render(self, given=None):
        """The job, without its stop action (StopJobTest)."""
        body = gitlab_ci.render(COMPONENT, given)
        self.assertEqual(set(body) & gitlab_ci.GLOBAL_KEYWORDS, set(),
                         "a component has no global keywords")
        self.assertEqual(len(body), 2, "the job and its stop action")
        return {name: job for name, job in body.items() if not name.endswith(":stop")}

    def test_job_name_and_stage_come_from_inputs(self):
        self.assertEqual(list(self.render()), ["network-policy"])
        body = self.render(CUSTOM_INPUTS)
        self.assertEqual(list(body), ["staging:network-policy"])
        job = body["staging:network-policy"]
        self.assertEqual(job["stage"], "verify")
        self.assertEqual(job["image"]["name"], CUSTOM_INPUTS["image"])
        self.assertEqual(job["environment"], {"name": "staging", "action": "verify"})

    def test_one_environment_at_a_time_never_interrupted_and_bounded(self):
        """Two pipelines deploying one environment never apply and prune at once."""
        job = self.render()["network-policy"]
        self.assertEqual(job["resource_group"], "netpol/production")
        self.assertIs(job["interruptible"], False)
        self.assertEqual(job["timeout"], "30m")
        job = self.render(dict(CUSTOM_INPUTS, timeout="1h"))["staging:network-policy"]
        self.assertEqual(job["resource_group"], "netpol/staging")
        self.assertEqual(job["timeout"], "1h")

    def test_inputs_become_the_variables_netpol_reads(self):
        for given in ({}, CUSTOM_INPUTS):
            job = next(iter(self.render(given).values()))
            for name, (variable, default) in INPUT_VARIABLES.items():
                with self.subTest(input=name, custom=bool(given)):
                    self.assertEqual(job["variables"][variable], given.get(name, default))

    def test_job_variables_never_hide_what_gitlab_provides(self):
        # A job variable outranks the environment's KUBE_NAMESPACE and KUBE_CONTEXT, even empty.
        job = next(iter(self.render().values()))
        for variable in ("KUBE_NAMESPACE", "KUBE_CONTEXT", "KUBECONFIG"):
            self.assertNotIn(variable, job["variables"])

    def run_script(self, given, environment):
        """argv the job's script gives netpol, by running the script line in bash with the
        job's variables and `netpol` resolved to printf."""
        job = next(iter(self.render(given).values()))
        self.assertEqual(len(job["script"]), 1)
        line = job["script"][0]
        self.assertTrue(line.startswith("netpol "), line)
        env = {"PATH": os.environ["PATH"]}
        env.update({k: gitlab_ci._to_text(v) for k, v in job["variables"].items()})
        env.update(environment)
        out = subprocess.run(["bash", "-c", "printf '%s\\n' " + line[len("netpol "):]],
                             env=env, capture_output=True, text=True, check=True)
        return out.stdout.splitlines()

    def test_script_runs_netpol_run_with_the_report_directory(self):
        self.assertEqual(self.run_script({}, {}), ["--output-dir", "netpol-report", "run"])

    def test_script_passes_namespace_and_context_only_when_given(self):
        argv = self.run_script(CUSTOM_INPUTS, {})
        self.assertEqual(argv, ["--output-dir", "netpol-report", "--namespace", "shop staging",
                                "--context", "group/agents:production", "run"])
        # Without inputs the environment's KUBE_NAMESPACE/KUBE_CONTEXT reach netpol untouched.
        argv = self.run_script({}, {"KUBE_NAMESPACE": "app-1-production"})
        self.assertNotIn("--namespace", argv)

    def test_artifacts(self):
        job = next(iter(self.render().values()))
        artifacts = job["artifacts"]
        self.assertEqual(artifacts["when"], "always")
        # Retention and who may read: the drop log holds pod IPs, labels and flows.
        self.assertEqual(artifacts["expire_in"], "30 days")
        self.assertEqual(artifacts["access"], "developer")
        self.assertEqual(artifacts["name"], "netpol-$CI_JOB_NAME_SLUG-$CI_ENVIRONMENT_SLUG")
        custom = next(iter(self.render({"expire_in": "1 week",
                                        "artifacts_access": "none"}).values()))["artifacts"]
        self.assertEqual((custom["expire_in"], custom["access"]), ("1 week", "none"))
        self.assertEqual(artifacts["paths"], ["netpol-report/"])
        self.assertEqual(artifacts["reports"], {
            "junit": "netpol-report/junit-*.xml",
            "dotenv": "netpol-report/netpol.env",
            "metrics": "netpol-report/metrics.txt",
            "codequality": "netpol-report/gl-code-quality-report.json",
        })
        self.assertEqual(artifacts["expose_as"], "Network policy drop log")
        self.assertEqual(gitlab_ci.expose_as_problems(artifacts), [])

    def test_the_previous_summary_is_where_the_next_run_looks(self):
        """--previous-summary auto reads <output dir>/drop-summary.json of this job's artifact:
        the job writes its reports where the artifact keeps them, under the same job name."""
        for given in ({}, CUSTOM_INPUTS):
            job = next(iter(self.render(given).values()))
            self.assertIn("--output-dir netpol-report", " ".join(job["script"]))
            self.assertIn("netpol-report/", job["artifacts"]["paths"])
            self.assertNotIn("NETPOL_PREVIOUS_SUMMARY", job["variables"])
            self.assertNotIn("NETPOL_OUTPUT_DIR", job["variables"])

    def test_expose_as_rules_are_checked(self):
        for paths in (["./netpol-report/"], ["$NETPOL_OUTPUT_DIR/"], ["netpol-report/*.html"]):
            with self.subTest(paths=paths):
                self.assertTrue(gitlab_ci.expose_as_problems({"expose_as": "x", "paths": paths}))

    def test_rules(self):
        job = next(iter(self.render().values()))
        cases = [
            ({}, "never"),  # no cluster
            ({"KUBECONFIG": ""}, "never"),
            ({"KUBECONFIG": "/builds/tmp/KUBECONFIG"}, "on_success"),
            ({"CI_KUBERNETES_ACTIVE": "true"}, "on_success"),
            ({"KUBECONFIG": "/k", "NETWORK_POLICY_DISABLED": "true"}, "never"),
            ({"KUBECONFIG": "/k", "NETWORK_POLICY_DISABLED": "false"}, "never"),  # any value
        ]
        for variables, expected in cases:
            with self.subTest(variables=variables):
                self.assertEqual(gitlab_ci.rules_outcome(job, variables), expected)


class StopJobTest(unittest.TestCase):
    """remove_on_stop: the environment's stop action deletes what netpol applied for it."""

    def stop_job(self, given=None):
        body = gitlab_ci.render(COMPONENT, given)
        return {n: j for n, j in body.items() if n.endswith(":stop")}

    def test_a_stop_action_of_the_same_environment(self):
        jobs = self.stop_job(CUSTOM_INPUTS)
        self.assertEqual(list(jobs), ["staging:network-policy:stop"])
        job = jobs["staging:network-policy:stop"]
        self.assertEqual(job["environment"], {"name": "staging", "action": "stop"})
        self.assertEqual(job["resource_group"], "netpol/staging")
        self.assertEqual(job["variables"]["GIT_STRATEGY"], "none")
        self.assertRegex(job["script"][0], r"\bremove$")
        self.assertIn("--namespace", job["script"][0])
        self.assertEqual(job["artifacts"]["reports"]["metrics"], "netpol-report/metrics.txt")

    def test_only_when_asked(self):
        cluster = {"KUBECONFIG": "/builds/tmp/KUBECONFIG"}
        off = next(iter(self.stop_job().values()))
        self.assertEqual(gitlab_ci.rules_outcome(off, cluster), "never")
        on = next(iter(self.stop_job({"remove_on_stop": True}).values()))
        self.assertEqual(gitlab_ci.rules_outcome(on, cluster), "manual")
        self.assertEqual(gitlab_ci.rules_outcome(on, {}), "never")
        self.assertEqual(gitlab_ci.rules_outcome(on, dict(cluster, NETWORK_POLICY_DISABLED="1")),
                         "never")


class MetricsReportTest(unittest.TestCase):
    """Every template job that installs or removes Cilium or policies publishes the
    metrics.txt its netpol command writes, for following adoption across projects."""

    # netpol subcommands that change the cluster, and the template jobs expected to run them.
    CHANGING = {"run", "apply", "remove", "install-cilium"}
    EXPECTED = {
        "component": {"network-policy": "run", "network-policy:stop": "remove"},
        "auto-devops": dict({name: "run" for name in FOLLOWS},
                            **{name: "remove" for name in STOPS},
                            **{"cilium:install": "install-cilium"}),
    }

    def templates(self):
        component = gitlab_ci.render(COMPONENT, {"remove_on_stop": True, "install_cilium": True})
        auto_devops = gitlab_ci.render(AUTO_DEVOPS)
        for label, body in [("component", component), ("auto-devops", auto_devops)]:
            jobs = {n: gitlab_ci.resolve_extends(body, n) for n in gitlab_ci.jobs(body)
                    if not n.startswith(".")}
            yield label, jobs

    @staticmethod
    def subcommand(job):
        script = " ".join(job.get("script", []))
        words = re.findall(r"(?:^|\s)(run|apply|remove|install-cilium|detect|drops|lint|plan)"
                           r"(?=\s|$)", script)
        return words[-1] if words else None

    def test_every_changing_job_publishes_its_metrics(self):
        for label, jobs in self.templates():
            found = {}
            for name, job in jobs.items():
                command = self.subcommand(job)
                if command not in self.CHANGING:
                    continue
                found[name] = command
                with self.subTest(template=label, job=name):
                    script = " ".join(job["script"])
                    self.assertIn("--output-dir netpol-report", script)
                    artifacts = job["artifacts"]
                    self.assertEqual(artifacts["when"], "always")
                    self.assertIn("netpol-report/", artifacts["paths"])
                    self.assertEqual(artifacts["reports"]["metrics"], "netpol-report/metrics.txt")
            self.assertEqual(found, self.EXPECTED[label], label)

    def test_those_commands_write_metrics_txt(self):
        if not NETPOL:
            self.skipTest("netpol not built (NETPOL_BINARY or build/dev/netpol)")
        commands = {c for expected in self.EXPECTED.values() for c in expected.values()}
        for command in sorted(commands):
            with self.subTest(command=command):
                help_text = subprocess.run([NETPOL, command, "--help"], capture_output=True,
                                           text=True, timeout=60).stdout
                self.assertIn("metrics.txt", help_text)

    def test_the_docs_name_every_job_and_metric(self):
        docs = (ROOT / "docs/configuration.md").read_text()
        section = docs[docs.index("### Following adoption with the metrics reports"):]
        section = section[:section.index("\nA file a command did not get to write")]
        for name in ["cilium:install", "stop_review:network-policy", "install-cilium"]:
            self.assertIn(name, section)
        for metric in ["netpol_cilium_installs", "netpol_policies_applied",
                       "netpol_policies_removed", "netpol_cilium_uninstalls", "netpol_flows"]:
            self.assertIn(metric, section)


class DotenvTest(unittest.TestCase):
    """netpol.env feeds later jobs' variables, which outrank job YAML variables."""

    def test_dotenv_keys_do_not_override_what_netpol_or_the_templates_read(self):
        template_variables = set()
        for path in TEMPLATES:
            for job in gitlab_ci.jobs(gitlab_ci.render(path)).values():
                template_variables |= set(job.get("variables", {}))
        self.assertEqual(DOTENV_KEYS & (NETPOL_READS | template_variables), set())

    def test_dotenv_report_is_one_file_inside_the_artifacts(self):
        for path in TEMPLATES:
            body = gitlab_ci.render(path)
            for name in gitlab_ci.jobs(body):
                job = gitlab_ci.resolve_extends(body, name)
                dotenv = job.get("artifacts", {}).get("reports", {}).get("dotenv")
                if dotenv is None:
                    continue
                with self.subTest(job=name):
                    self.assertIsInstance(dotenv, str)
                    self.assertFalse(set("*?[{$") & set(dotenv))
                    self.assertTrue(any(dotenv.startswith(p) for p in job["artifacts"]["paths"]))

    def test_dotenv_rules(self):
        good = "".join(f"{k}=x\n" for k in sorted(DOTENV_KEYS))
        self.assertEqual(gitlab_ci.dotenv_problems(good), [])
        for bad in ("NETPOL-FLAVOR=gke\n", "A=1\n\nB=2\n", "# c\nA=1\n", "A=two words\n",
                    "A=\"quoted\"\n", "A=" + "x" * 5200 + "\n"):
            with self.subTest(bad=bad[:20]):
                self.assertTrue(gitlab_ci.dotenv_problems(bad))


class AutoDevOpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ours = gitlab_ci.render(AUTO_DEVOPS)
        _, deploy = gitlab_ci.load_template(DEPLOY_FIXTURE)
        cls.resolved = {n: gitlab_ci.resolve_extends(cls.ours, n) for n in gitlab_ci.jobs(cls.ours)}
        cls.deploy_resolved = {n: gitlab_ci.resolve_extends(deploy, n)
                               for n in gitlab_ci.jobs(deploy)}

    def job(self, name):
        return self.resolved[name]

    def deploy_job(self, name):
        return self.deploy_resolved[name]

    def test_every_network_policy_job_is_mapped(self):
        visible = {n for n in gitlab_ci.jobs(self.ours) if not n.startswith(".")}
        self.assertEqual(visible, set(FOLLOWS) | set(STOPS) | {"cilium:install"})

    def test_every_deploy_job_is_followed(self):
        """Every job of GitLab's Deploy template that deploys has its network-policy job."""
        followed = {d for deploys in FOLLOWS.values() for d in deploys}
        deploying = {n for n in self.deploy_resolved if not n.startswith(".")
                     and self.deploy_job(n).get("environment", {}).get("action", "start")
                     == "start"}
        self.assertEqual(deploying - followed, set())

    def test_stopping_a_review_app_removes_its_policies(self):
        for name, followed in STOPS.items():
            job = self.job(name)
            stop = self.deploy_job(followed[0])
            with self.subTest(job=name):
                self.assertEqual(job["stage"], stop["stage"])
                self.assertEqual(job["environment"]["name"], stop["environment"]["name"])
                self.assertEqual(job["environment"]["action"], "access")
                self.assertEqual([n["job"] for n in job["needs"]], followed)
                self.assertEqual(job["variables"]["GIT_STRATEGY"], "none")
                self.assertEqual(job["script"], ["netpol --output-dir netpol-report remove"])
                self.assertEqual(job["resource_group"],
                                 self.job("review:network-policy")["resource_group"])
                for variables in all_rule_variable_sets():
                    ours = gitlab_ci.rules_outcome(job, variables)
                    stops = gitlab_ci.rules_outcome(stop, variables) != "never"
                    disabled = bool(variables.get("NETWORK_POLICY_DISABLED"))
                    expected = "on_success" if stops and not disabled else "never"
                    if ours != expected:
                        self.fail(f"{name} is {ours}, expected {expected} with {variables}")

    def test_no_global_keywords(self):
        self.assertEqual(set(self.ours) & gitlab_ci.GLOBAL_KEYWORDS, set())

    def test_same_stage_environment_and_needs(self):
        for name, followed in FOLLOWS.items():
            job = self.job(name)
            with self.subTest(job=name):
                for deploy_name in followed:
                    deploy = self.deploy_job(deploy_name)
                    self.assertEqual(job["stage"], deploy["stage"])
                    self.assertEqual(job["environment"]["name"], deploy["environment"]["name"])
                    self.assertEqual(job["environment"]["url"], deploy["environment"]["url"])
                self.assertEqual(job["environment"]["action"], "verify")
                self.assertNotIn("on_stop", job["environment"])
                self.assertEqual([n["job"] for n in job["needs"]], followed)
                for need in job["needs"]:
                    self.assertFalse(need["artifacts"])
                    self.assertEqual(need.get("optional", False), len(followed) > 1)

    def test_in_exactly_the_pipelines_of_the_deploy_jobs(self):
        checked = 0
        for variables in all_rule_variable_sets():
            disabled = bool(variables.get("NETWORK_POLICY_DISABLED"))
            for name, followed in FOLLOWS.items():
                ours = gitlab_ci.rules_outcome(self.job(name), variables)
                deployed = [d for d in followed
                            if gitlab_ci.rules_outcome(self.deploy_job(d), variables) != "never"]
                expected = "never" if disabled or not deployed else "on_success"
                if ours != expected:
                    self.fail(f"{name} is {ours}, expected {expected} with {variables} "
                              f"(deploy jobs present: {deployed})")
                checked += 1
        self.assertGreater(checked, 10000)

    def test_cilium_install(self):
        job = self.job("cilium:install")
        self.assertLess(AUTO_DEVOPS_STAGES.index(job["stage"]), AUTO_DEVOPS_STAGES.index("review"))
        self.assertIn("install-cilium", job["script"][0])
        for variables in all_rule_variable_sets():
            expected = (variables.get("CILIUM_INSTALL") == "true"
                        and variables.get("CI_COMMIT_BRANCH") == "main"
                        and (variables.get("KUBECONFIG") or variables.get("CI_KUBERNETES_ACTIVE"))
                        and not variables.get("NETWORK_POLICY_DISABLED"))
            outcome = gitlab_ci.rules_outcome(job, variables)
            if outcome != ("on_success" if expected else "never"):
                self.fail(f"cilium:install is {outcome} with {variables}")

    def test_one_environment_at_a_time_never_interrupted_and_bounded(self):
        groups = {}
        for name in list(FOLLOWS) + ["cilium:install"]:
            job = self.job(name)
            with self.subTest(job=name):
                self.assertIs(job["interruptible"], False)
                self.assertEqual(job["timeout"], "30m")
                self.assertTrue(job["resource_group"].startswith("netpol/"))
                if name != "cilium:install":
                    env = job["environment"]["name"].replace("$CI_COMMIT_REF_NAME",
                                                             "$CI_COMMIT_REF_SLUG")
                    groups.setdefault(job["resource_group"], set()).add(env)
        # One group per environment, and one environment per group.
        self.assertTrue(all(len(envs) == 1 for envs in groups.values()), groups)
        self.assertEqual(groups["netpol/production"], {"production"})

    def test_network_policy_jobs_do_not_install_cilium(self):
        for name in FOLLOWS:
            script = " ".join(self.job(name)["script"])
            self.assertRegex(script, r"\brun\b.*--no-install-cilium")

    def test_drop_log_checks_come_from_the_projects_variables(self):
        """NETWORK_POLICY_FAIL_ON_DROPS and NETWORK_POLICY_FAIL_ON_NEW_DROPS are project or
        environment-scoped variables here: no job variable hides them."""
        for name in FOLLOWS:
            variables = self.job(name).get("variables") or {}
            for variable in ("NETWORK_POLICY_FAIL_ON_DROPS", "NETWORK_POLICY_FAIL_ON_NEW_DROPS",
                             "NETPOL_PREVIOUS_SUMMARY"):
                self.assertNotIn(variable, variables, name)
        header = AUTO_DEVOPS.read_text().split("spec:", 1)[0]
        self.assertIn("NETWORK_POLICY_FAIL_ON_NEW_DROPS", header)
        self.assertIn("`NETWORK_POLICY_FAIL_ON_NEW_DROPS`",
                      (ROOT / "docs/auto-devops.md").read_text())

    def test_artifacts_as_in_the_component(self):
        component = next(iter(gitlab_ci.render(COMPONENT).values()))
        for name in FOLLOWS:
            self.assertEqual(self.job(name)["artifacts"], component["artifacts"])


class DocsTest(unittest.TestCase):
    """The documentation shows the templates as they are."""

    DOCS = [ROOT / "README.md", ROOT / "docs/getting-started.md", ROOT / "docs/auto-devops.md",
            ROOT / "docs/configuration.md"]

    def test_every_input_is_documented_with_its_type_and_default(self):
        text = (ROOT / "docs/configuration.md").read_text()
        spec, _ = gitlab_ci.load_template(COMPONENT)
        for name, decl in spec["inputs"].items():
            with self.subTest(input=name):
                row = re.search(rf"^\| `{name}` \| ([^|]*) \| ([^|]*) \|", text, re.MULTILINE)
                self.assertIsNotNone(row, f"no row for input {name}")
                self.assertTrue(row.group(1).startswith(decl["type"]), row.group(0))
                default = decl["default"]
                shown = gitlab_ci._to_text(default) if default != "" else "''"
                self.assertIn(shown, row.group(2), row.group(0))

    def test_include_snippets_are_valid(self):
        validator = schema_validator()
        spec, _ = gitlab_ci.load_template(COMPONENT)
        checked = 0
        for doc in self.DOCS:
            for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.DOTALL):
                config = yaml.safe_load(block)
                if not isinstance(config, dict) or "include" not in config:
                    continue
                with self.subTest(doc=doc.name, block=block[:60]):
                    self.assertEqual(schema_errors(validator, config), [])
                    for entry in config["include"]:
                        target = entry.get("component", "") + entry.get("file", "") + \
                            entry.get("remote", "")
                        if "network-policy" in target and "Auto-DevOps" not in target:
                            gitlab_ci.resolve_inputs(spec, entry.get("inputs", {}))
                    checked += 1
        self.assertGreaterEqual(checked, 3)


class ImageDefinitionTest(unittest.TestCase):
    """The Dockerfile and the pipeline agree with the pins and paths the code uses."""

    def setUp(self):
        self.dockerfile = (ROOT / "Dockerfile").read_text()
        self.runtime = self.dockerfile[self.dockerfile.rindex("\nFROM "):]
        self.defaults = (ROOT / "src/cilium/defaults.hpp").read_text()

    def cpp_constant(self, name):
        return re.search(rf'{name} = "([^"]*)"', self.defaults).group(1)

    def test_runtime_stage_is_non_root_without_entrypoint(self):
        self.assertNotRegex(self.dockerfile, r"(?m)^ENTRYPOINT")
        user = re.findall(r"^USER (\S+)", self.runtime, re.MULTILINE)
        self.assertEqual(len(user), 1)
        self.assertNotIn(user[0].split(":")[0], ("0", "root"))

    def test_runtime_is_scratch_plus_the_assembled_root(self):
        # Everything the runtime holds comes from scripts/image-rootfs.sh, which
        # tests/ci/test_image_rootfs.py runs and checks the same way.
        self.assertTrue(self.runtime.startswith("\nFROM scratch\n"), self.runtime[:40])
        self.assertEqual(re.findall(r"(?m)^(?:COPY|ADD) .*$", self.runtime),
                         ["COPY --from=rootfs /rootfs/ /"])
        rootfs = self.dockerfile[self.dockerfile.index("FROM build AS rootfs\n"):
                                 self.dockerfile.rindex("\nFROM ")]
        self.assertIn("apt-get install -y -qq --no-install-recommends busybox-static", rootfs)
        self.assertRegex(rootfs, r"(?m)^RUN scripts/image-rootfs\.sh /rootfs /build/netpol "
                                 r"/tmp/rootfs-input/helm /tmp/rootfs-input/cilium\.tgz$")
        # The runtime proves itself as the user it runs as.
        self.assertRegex(self.runtime, r"USER 10001:10001\n(?:.*\n)*RUN netpol version && "
                                       r"helm version --short\n")

    def test_chart_goes_where_install_cilium_looks(self):
        bundled = self.cpp_constant("k_bundled_chart")
        # The checked chart of the helm stage is the one the rootfs script installs there.
        self.assertIn("COPY --from=helm /tmp/cilium.tgz /tmp/rootfs-input/cilium.tgz\n",
                      self.dockerfile)
        script = (ROOT / "scripts/image-rootfs.sh").read_text()
        self.assertIn(f'install -m 0644 "$chart" {bundled.lstrip("/")}\n', script)

    def test_helm_is_downloaded_for_the_platform_being_built(self):
        helm = self.dockerfile[self.dockerfile.index(" AS helm\n"):
                               self.dockerfile.index(" AS rootfs\n")]
        # No default: a default would override the value BuildKit sets for each platform.
        self.assertRegex(helm, r"(?m)^ARG TARGETARCH$")
        self.assertNotIn("ARG TARGETARCH=", self.dockerfile)
        self.assertIn('arch="${TARGETARCH:-$(dpkg --print-architecture)}"', helm)
        self.assertIn('tarball="helm-${HELM_VERSION}-linux-${arch}.tar.gz"', helm)
        self.assertIn('curl -fsSL "https://get.helm.sh/${tarball}.sha256sum" | sha256sum -c -',
                      helm)
        self.assertNotIn("amd64", self.dockerfile.replace("linux/amd64,linux/arm64", ""))
        # No stage is pinned to the build machine's platform: each is built per platform.
        self.assertNotIn("--platform=", self.dockerfile)

    def test_pipeline_builds_and_pushes_both_platforms(self):
        _, pipeline = gitlab_ci.load_template(PROJECT_CI)
        job = pipeline["image:build"]
        self.assertEqual(job["variables"]["IMAGE_PLATFORMS"], "linux/amd64,linux/arm64")
        script = "\n".join(job["script"])
        self.assertIn('--platform "$IMAGE_PLATFORMS" --push --tag "$NETPOL_IMAGE"', script)
        self.assertIn("--fetch-helm", script)  # one helm binary cannot serve both platforms
        self.assertNotIn("docker tag", script)  # would retag one platform only
        setup = "\n".join(job["before_script"])
        self.assertIn("--install arm64", setup)
        self.assertIn("docker buildx create", setup)

    def test_default_chart_is_the_pinned_real_one_checked_by_digest(self):
        version = self.cpp_constant("k_chart_version")
        pins = dict(reversed(line.split()) for line in
                    (ROOT / "charts/cilium-charts.sha256").read_text().splitlines() if line)
        digest = pins[f"cilium-{version}.tgz"]
        # Both stages default to the same pinned version and digest; no test chart.
        self.assertEqual(self.dockerfile.count(f"ARG CILIUM_CHART_VERSION={version}\n"), 2)
        self.assertEqual(self.dockerfile.count(f"ARG CILIUM_CHART_SHA256={digest}\n"), 2)
        self.assertIn('echo "${CILIUM_CHART_SHA256}  /tmp/cilium.tgz" | sha256sum -c -',
                      self.dockerfile)
        self.assertNotIn("cilium-test", self.dockerfile)
        self.assertNotIn("cilium-test", (ROOT / "scripts/build-image.sh").read_text())

    def test_pins_agree(self):
        helm = re.search(r"helm_version=(\S+)", (ROOT / "scripts/test-cluster/get-helm.sh")
                         .read_text()).group(1)
        self.assertIn(f"ARG HELM_VERSION=v{helm}", self.dockerfile)
        _, pipeline = gitlab_ci.load_template(PROJECT_CI)
        self.assertEqual(pipeline["variables"]["HELM_VERSION"], f"v{helm}")
        self.assertEqual(str(pipeline["variables"]["CILIUM_CHART_VERSION"]),
                         self.cpp_constant("k_chart_version"))


class RulesEvaluatorTest(unittest.TestCase):
    """The expression evaluator the tests above rely on, against GitLab's documented cases."""

    def test_expressions(self):
        cases = [
            ("$A", {"A": "x"}, True), ("$A", {"A": ""}, False), ("$A", {}, False),
            ("$A == null", {}, True), ("$A == null", {"A": ""}, False),
            ('$A == ""', {"A": ""}, True), ('$A == ""', {}, False),
            ('$A != "x"', {}, True), ("$A == $B", {"A": "1", "B": "1"}, True),
            ("$A || $B && $C", {"A": "1"}, True), ("($A || $B) && $C", {"A": "1"}, False),
            ("$A =~ /^(true|1)$/i", {"A": "TRUE"}, True), ("$A =~ /^x$/", {}, False),
            ("$A !~ /^x$/", {"A": "y"}, True),
        ]
        for expression, variables, expected in cases:
            with self.subTest(expression=expression, variables=variables):
                self.assertEqual(gitlab_ci.evaluate(expression, variables), expected)

    def test_syntax_errors(self):
        for expression in ("$A ==", "$A = 1", "($A"):
            with self.subTest(expression=expression):
                with self.assertRaises(GitLabError):
                    gitlab_ci.evaluate(expression, {})


# ---------------------------------------------------------------------------------------
# gitlab-ci-local


def find_gitlab_ci_local():
    """GITLAB_CI_LOCAL, else the cached 4.70.0 (installed on first use)."""
    path = os.environ.get("GITLAB_CI_LOCAL")
    if not path:
        out = subprocess.run([str(ROOT / "scripts/test-cluster/get-gitlab-ci-local.sh")],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"gitlab-ci-local unavailable: {out.stderr.strip()}", file=sys.stderr)
            return None
        path = out.stdout.strip().splitlines()[-1]
    return path if os.access(path, os.X_OK) else None


def find_netpol():
    path = os.environ.get("NETPOL_BINARY") or str(ROOT / "build/dev/netpol")
    return path if os.access(path, os.X_OK) else None


GITLAB_CI_LOCAL = find_gitlab_ci_local()
NETPOL = find_netpol()
if NETPOL is None and gitlab_ci.in_ci():
    # The skipUnless(NETPOL) tests below would pass CI by running less.
    raise SystemExit("netpol binary not found (NETPOL_BINARY or build/dev/netpol); CI is set")


class GitlabCiLocalTest(unittest.TestCase):
    """The templates in a throw-away project whose origin is gitlab.example.com/netpol/netpol,
    so `include: component: $CI_SERVER_FQDN/netpol/netpol/network-policy@$CI_COMMIT_SHA`
    resolves to the checked-out templates/ as on GitLab."""

    @classmethod
    def setUpClass(cls):
        if GITLAB_CI_LOCAL is None:
            message = "gitlab-ci-local 4.70.0 unavailable (scripts/test-cluster/get-gitlab-ci-local.sh)"
            gitlab_ci.skip_or_fail(message)

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="netpol-gcl-"))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        for sub in ("ci-templates", "templates", "tests/ci/fixtures"):
            shutil.copytree(ROOT / sub, self.dir / sub)
        self.git("init", "-q", "-b", "main")
        self.git("remote", "add", "origin", "https://gitlab.example.com/netpol/netpol.git")

    def git(self, *args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                       cwd=self.dir, check=True, capture_output=True)

    def write_pipeline(self, config):
        (self.dir / ".gitlab-ci.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        self.git("add", "-A")
        self.git("commit", "-qm", "pipeline")

    def gcl(self, *args, env=None, check=True):
        run_env = dict(os.environ)
        run_env.update(env or {})
        # The tests set CI_COMMIT_BRANCH and CI_DEFAULT_BRANCH on purpose.
        args = ("--ignore-predefined-vars", "CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH,CI_COMMIT_TAG",
                *args)
        out = subprocess.run([GITLAB_CI_LOCAL, "--home", str(self.dir / ".home"), *args],
                             cwd=self.dir, env=run_env, capture_output=True, text=True,
                             timeout=300)
        if check and out.returncode != 0:
            self.fail(f"gitlab-ci-local {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out

    def listed(self, variables):
        # preview() and the job runs validate against the schema; listing need not again.
        args = ["--list-json", "--no-json-schema-validation"]
        for k, v in variables.items():
            args += ["--variable", f"{k}={v}"]
        out = self.gcl(*args).stdout
        out = "\n" + out
        jobs = json.loads(out[out.index("\n[\n"):])
        return {j["name"]: j["when"] for j in jobs if j["when"] != "never"}

    def preview(self, variables=None):
        args = ["--preview"]
        for k, v in (variables or {}).items():
            args += ["--variable", f"{k}={v}"]
        out = self.gcl(*args).stdout
        return yaml.safe_load(out[out.index("---"):])

    def component_pipeline(self, inputs, how="component"):
        include = ({"component": "$CI_SERVER_FQDN/netpol/netpol/network-policy@$CI_COMMIT_SHA"}
                   if how == "component" else {"local": "ci-templates/network-policy.yml"})
        include["inputs"] = inputs
        self.write_pipeline({
            "stages": ["build", "deploy", "verify"],
            "include": [include],
            "deploy": {"stage": "deploy", "script": ["echo deployed"]},
        })

    def test_component_include_matches_gitlabs_interpolation(self):
        inputs = {k: v for k, v in CUSTOM_INPUTS.items() if k != "stage"}
        inputs["stage"] = "verify"
        for how in ("component", "local"):
            with self.subTest(include=how):
                self.component_pipeline(inputs, how)
                previewed = self.preview({"KUBECONFIG": "/k"})["staging:network-policy"]
                ours = gitlab_ci.render(COMPONENT, inputs)["staging:network-policy"]
                # gitlab-ci-local passes variables on as strings, as GitLab does.
                ours["variables"] = {k: gitlab_ci._to_text(v)
                                     for k, v in ours["variables"].items()}
                self.assertEqual(previewed, ours)

    def test_component_rules(self):
        self.component_pipeline({"stage": "verify"})
        self.assertNotIn("network-policy", self.listed({}))
        self.assertEqual(self.listed({"KUBECONFIG": "/k"})["network-policy"], "on_success")
        self.assertNotIn("network-policy",
                         self.listed({"KUBECONFIG": "/k", "NETWORK_POLICY_DISABLED": "1"}))

    def test_auto_devops_jobs_follow_the_deploy_jobs(self):
        self.write_pipeline({
            "stages": AUTO_DEVOPS_STAGES,
            "include": [{"local": "tests/ci/fixtures/Jobs-Deploy.gitlab-ci.yml"},
                        {"local": "ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml"}],
        })
        cluster = {"KUBECONFIG": "/k", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
        cases = [
            ({}, {"production", "production:network-policy"}),
            ({"STAGING_ENABLED": "1"},
             {"staging", "staging:network-policy", "production_manual",
              "production:network-policy"}),
            ({"INCREMENTAL_ROLLOUT_MODE": "timed"},
             {f"timed rollout {p}%{j}" for p in (10, 25, 50, 100) for j in ("", ":network-policy")}),
            # The last manual step is followed by production:network-policy.
            ({"INCREMENTAL_ROLLOUT_MODE": "manual"},
             {f"rollout {p}%{j}" for p in (10, 25, 50) for j in ("", ":network-policy")}
             | {"rollout 100%", "production:network-policy"}),
            ({"CANARY_ENABLED": "1"},
             {"canary", "canary:network-policy", "production_manual",
              "production:network-policy"}),
            ({"CILIUM_INSTALL": "true"},
             {"cilium:install", "production", "production:network-policy"}),
            ({"NETWORK_POLICY_DISABLED": "1", "CILIUM_INSTALL": "true"}, {"production"}),
        ]
        watched = (set(FOLLOWS) | set(STOPS) | {"cilium:install", "stop_review"}
                   | {d for deploys in FOLLOWS.values() for d in deploys})
        for extra, expected in cases:
            with self.subTest(variables=extra):
                listed = self.listed({**cluster, **extra})
                self.assertEqual(set(listed) & watched, expected)
                for name in set(listed) & set(FOLLOWS):
                    self.assertEqual(listed[name], "on_success")
        listed = self.listed({"KUBECONFIG": "/k", "CI_COMMIT_BRANCH": "feature",
                              "CI_DEFAULT_BRANCH": "main"})
        self.assertEqual(set(listed) & watched, {"review", "review:network-policy", "stop_review",
                                                  "stop_review:network-policy"})
        self.assertEqual(listed["stop_review:network-policy"], "on_success")
        self.gcl("--validate-dependency-chain", "--variable", "KUBECONFIG=/k",
                 "--variable", "CI_COMMIT_BRANCH=main", "--variable", "CI_DEFAULT_BRANCH=main")

    def test_project_pipeline_includes_the_component_at_this_commit(self):
        shutil.copy(PROJECT_CI, self.dir / ".gitlab-ci.yml")
        self.git("add", "-A")
        self.git("commit", "-qm", "pipeline")
        branch = {"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
        listed = self.listed(branch)
        self.assertEqual(set(listed), {"test", "image:build", "e2e:kind-cilium"})
        listed = self.listed({**branch, "KUBECONFIG": "/k"})
        self.assertEqual(listed.get("self-test:network-policy"), "on_success")
        tagged = self.listed({"CI_COMMIT_TAG": "0.1.0"})
        self.assertIn("release", tagged)
        self.assertNotIn("release", self.listed({"CI_COMMIT_TAG": "v0.1-rc"}))

    @unittest.skipUnless(NETPOL, "netpol not built (NETPOL_BINARY or build/dev/netpol)")
    def test_component_job_runs_the_real_netpol(self):
        # A fresh namespace per run: the test cluster cannot delete namespaces.
        self.component_pipeline({"stage": "verify", "namespace": f"ci-run-{os.getpid()}"})
        env = {"PATH": f"{Path(NETPOL).parent}:{os.environ['PATH']}"}
        help_text = subprocess.run([NETPOL, "--help"], capture_output=True, text=True).stdout
        self.assertIn("\n  run ", help_text, "the job runs `netpol run`, which --help does not list")
        cluster_dir = os.environ.get("NETPOL_TEST_CLUSTER_DIR")
        if not cluster_dir:
            gitlab_ci.skip_or_fail("the full `netpol run` job needs the test cluster "
                                   "(NETPOL_TEST_CLUSTER_DIR)", elsewhere=True)
        kubeconfig = Path(cluster_dir) / "kubeconfig"  # admin, written by start.sh
        out = self.gcl("--force-shell-executor", "--variable", f"KUBECONFIG={kubeconfig}",
                       "network-policy", env=env, check=False)
        report = self.dir / "netpol-report"
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue(list(report.glob("junit-*.xml")))
        self.assertTrue((report / "metrics.txt").is_file())
        self.assertEqual(gitlab_ci.dotenv_problems((report / "netpol.env").read_text()), [])
        keys = {line.split("=", 1)[0]
                for line in (report / "netpol.env").read_text().splitlines()}
        self.assertEqual(keys, DOTENV_KEYS)

    @unittest.skipUnless(NETPOL, "netpol not built (NETPOL_BINARY or build/dev/netpol)")
    def test_one_job_per_cluster_with_parallel_matrix(self):
        """docs/getting-started.md: several clusters, one job each, by KUBE_CONTEXT."""
        cluster_dir = os.environ.get("NETPOL_TEST_CLUSTER_DIR")
        if not cluster_dir:
            gitlab_ci.skip_or_fail("needs the test cluster (NETPOL_TEST_CLUSTER_DIR)",
                                   elsewhere=True)
        # One kubeconfig with two contexts, as GitLab's agent writes one per agent; each
        # context has its own namespace, so each job reads another environment.
        config = yaml.safe_load((Path(cluster_dir) / "kubeconfig").read_text())
        base = config["contexts"][0]["context"]
        config["contexts"] = [
            {"name": f"agents:{name}", "context": {**base, "namespace": f"matrix-{name}"}}
            for name in ("eu", "us")]
        config.pop("current-context", None)
        kubeconfig = self.dir / "agents.kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(config))
        kubeconfig.chmod(0o600)
        self.write_pipeline({
            "stages": ["deploy", "verify"],
            "include": [{"component":
                         "$CI_SERVER_FQDN/netpol/netpol/network-policy@$CI_COMMIT_SHA",
                         "inputs": {"stage": "verify"}}],
            "network-policy": {"parallel": {"matrix": [{"KUBE_CONTEXT": ["agents:eu",
                                                                        "agents:us"]}]},
                               "variables": {"NETPOL_LOG_LEVEL": "debug",
                                             "NETWORK_POLICY_DROP_LOG": "false"}},
        })
        jobs = self.listed({"KUBECONFIG": str(kubeconfig)})
        matrix = sorted(name for name in jobs if name.startswith("network-policy"))
        self.assertEqual(matrix, ["network-policy: [agents:eu]", "network-policy: [agents:us]"])
        env = {"PATH": f"{Path(NETPOL).parent}:{os.environ['PATH']}"}
        for name in matrix:
            with self.subTest(job=name):
                out = self.gcl("--force-shell-executor", "--variable",
                               f"KUBECONFIG={kubeconfig}", name, env=env, check=False)
                log = out.stdout + out.stderr
                self.assertEqual(out.returncode, 0, log)
                context = name[name.index("[") + 1:-1]
                self.assertIn(f"(context '{context}' at", log)
                self.assertTrue((self.dir / "netpol-report" / "junit-run.xml").is_file())


    @unittest.skipUnless(NETPOL, "netpol not built (NETPOL_BINARY or build/dev/netpol)")
    def test_stopping_a_review_app_removes_its_policies_and_nothing_else(self):
        """A review app's policies, applied as its network-policy job does, are deleted by
        stop_review:network-policy run by gitlab-ci-local against the test cluster; another
        review app's policy in the same namespace stays."""
        cluster_dir = os.environ.get("NETPOL_TEST_CLUSTER_DIR")
        if not cluster_dir:
            gitlab_ci.skip_or_fail("needs the test cluster (NETPOL_TEST_CLUSTER_DIR)",
                                   elsewhere=True)
        env_file = Path(cluster_dir) / "cluster.env"
        cluster = dict(line.split("=", 1) for line in env_file.read_text().splitlines()
                       if "=" in line)
        kubeconfig = Path(cluster_dir) / "kubeconfig"
        tls = ssl.create_default_context(cafile=cluster["NETPOL_TEST_CA"])

        def api(method, path, body=None):
            request = urllib.request.Request(
                cluster["NETPOL_TEST_SERVER"] + path, method=method,
                data=None if body is None else json.dumps(body).encode(),
                headers={"Authorization": "Bearer " + cluster["NETPOL_TEST_ADMIN_TOKEN"],
                         "Content-Type": "application/json"})
            with urllib.request.urlopen(request, context=tls, timeout=30) as response:
                return json.load(response)

        ns = f"review-stop-{os.getpid()}-{int(time.time())}"
        api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": ns}})
        self.write_pipeline({
            "stages": AUTO_DEVOPS_STAGES,
            "include": [{"local": "tests/ci/fixtures/Jobs-Deploy.gitlab-ci.yml"},
                        {"local": "ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml"}],
        })
        path = {"PATH": f"{Path(NETPOL).parent}:{os.environ['PATH']}"}

        def stop_job():
            return self.gcl("--force-shell-executor", "--variable", f"KUBECONFIG={kubeconfig}",
                            "--variable", f"KUBE_NAMESPACE={ns}", "--variable",
                            "CI_PROJECT_ID=77", "--variable", "CI_COMMIT_BRANCH=feature",
                            "--variable", "CI_DEFAULT_BRANCH=main", "--variable",
                            "CI_COMMIT_REF_NAME=feature", "stop_review:network-policy",
                            env=path, check=False)

        # Before the review app has policies: nothing to remove, and the log names the
        # environment slug GitLab gives review/feature (a suffix is added to changed names).
        out = stop_job()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        slug = re.search(r"environment (review-feature\S*) in namespace", out.stdout + out.stderr)
        self.assertIsNotNone(slug, out.stdout + out.stderr)
        slug = slug.group(1)

        provider = self.dir / "provider.json"
        provider.write_text(json.dumps({  # as `netpol detect` writes it for an enforcing Cilium
            "kubernetes_version": "v1.20.2", "flavor": "generic", "flavor_confidence": "high",
            "provider": {"name": "cilium", "version": "1.20.0", "namespace": "kube-system",
                         "enforces_network_policy": True, "audit_mode": False,
                         "drop_log_source": "none", "ready": True, "confidence": "high"},
            "other_providers": [], "evidence": [], "confidence": "high"}))
        # This review app's policy and another review app's, in the same namespace, applied as
        # their network-policy jobs apply them (project 77, their environment slugs).
        for env_slug, name in ((slug, "web"), ("review-other-abc123", "web-other")):
            policies = self.dir / f"policies-{name}"
            policies.mkdir()
            (policies / "web.yaml").write_text(
                f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}}}\n"
                "spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n"
                "  - ports: [{port: 80}]\n")
            subprocess.run(
                [NETPOL, "--kubeconfig", str(kubeconfig), "-n", ns, "--output-dir",
                 str(self.dir / f"applied-{name}"), "apply", "--mode", "enforce",
                 "--policies", str(policies), "--provider-file", str(provider)],
                env={**os.environ, "CI_PROJECT_ID": "77", "CI_ENVIRONMENT_SLUG": env_slug},
                check=True, capture_output=True, text=True)

        def listed():
            items = api("GET", f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies")
            return sorted(i["metadata"]["name"] for i in items["items"])
        self.assertEqual(listed(), ["web", "web-other"])

        out = stop_job()
        log = out.stdout + out.stderr
        self.assertEqual(out.returncode, 0, log)
        self.assertEqual(listed(), ["web-other"], log)
        junit = (self.dir / "netpol-report" / "junit-remove.xml").read_text()
        self.assertIn("failures=\"0\"", junit)
        self.assertIn("netpol_policies_removed 1", (self.dir / "netpol-report" / "metrics.txt")
                      .read_text())


@unittest.skipUnless(NETPOL, "netpol not built (NETPOL_BINARY or build/dev/netpol)")
class FlagsDocumentedTest(unittest.TestCase):
    """Every flag `netpol --help` shows has a row in docs/configuration.md, under its
    subcommand's heading."""

    def setUp(self):
        self.doc = (ROOT / "docs/configuration.md").read_text()

    def help(self, *args):
        return subprocess.run([NETPOL, *args, "--help"], capture_output=True, text=True,
                              check=True).stdout

    def section(self, title_part):
        headings = [m for m in re.finditer(r"^### .*$", self.doc, re.MULTILINE)]
        for i, m in enumerate(headings):
            if title_part in m.group(0):
                end = headings[i + 1].start() if i + 1 < len(headings) else len(self.doc)
                return self.doc[m.end():end]
        self.fail(f"docs/configuration.md has no heading with {title_part}")

    @staticmethod
    def flags(help_block):
        return set(re.findall(r"^  (?:-\w \[ )?(--[a-z0-9-]+)", help_block, re.MULTILINE))

    def test_global_options(self):
        text = self.help()
        flags = self.flags(text[text.index("Global options"):])
        self.assertIn("--kubeconfig", flags)
        section = self.section("Global options")
        for flag in sorted(flags):
            self.assertIn(f"`{flag}", section, f"global option {flag} is not documented")

    def test_every_subcommand_flag(self):
        text = self.help()
        listing = text[text.index("Subcommands:"):text.index("Global options")]
        subcommands = re.findall(r"^  ([a-z-]+)  ", listing, re.MULTILINE)
        self.assertIn("version", subcommands)
        self.assertIn("run", subcommands)
        # `run` takes the flags of the steps it runs; they are documented with those steps.
        also = {"run": ["`netpol plan", "`netpol drops", "`netpol install-cilium"],
                "apply": ["`netpol plan"]}
        for sub in subcommands:
            with self.subTest(subcommand=sub):
                own = self.help(sub)
                own = own[:own.index("Global options")] if "Global options" in own else own
                section = "".join(self.section(t)
                                  for t in [f"`netpol {sub}"] + also.get(sub, []))
                for flag in sorted(self.flags(own)):
                    self.assertIn(f"`{flag}", section, f"netpol {sub} {flag} is not documented")


if __name__ == "__main__":
    unittest.main(verbosity=2)
