#!/usr/bin/env python3
"""scripts/check-release.sh: the version in CMakeLists.txt, the dated CHANGELOG.md section,
the Dockerfile's image label, the templates' default image and the README's include agree.

The tree itself must pass; a temporary copy of the files the script reads, with one of them
changed, must fail with exit 1 and a line naming the file and both versions.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check-release.sh"
FILES = [
    "CMakeLists.txt",
    "CHANGELOG.md",
    "Dockerfile",
    "README.md",
    "ci-templates/network-policy.yml",
    "ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml",
    "templates/network-policy.yml",
]


def version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"^project\(netpol VERSION ([0-9.]+)", text, re.M).group(1)


def run(*args, cwd=None):
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


class CheckRelease(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="netpol-check-release-")
        self.copy = Path(self.tmp.name)
        for name in FILES:
            (self.copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, self.copy / name)
        self.version = version()

    def tearDown(self):
        self.tmp.cleanup()

    def edit(self, name, old, new, count=1):
        path = self.copy / name
        text = path.read_text()
        self.assertIn(old, text, f"{name} no longer holds {old!r}")
        path.write_text(text.replace(old, new, count))

    def assert_fails(self, *expected, tag=None):
        args = ["--tag", tag] if tag else []
        r = run(*args, self.copy)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for text in expected:
            self.assertIn(text, r.stderr)
        return r

    def test_the_tree_agrees(self):
        r = run()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{self.version} everywhere", r.stdout)
        self.assertEqual(r.stderr, "")

    def test_the_copy_agrees_and_the_tag_is_checked(self):
        self.assertEqual(run(self.copy).returncode, 0)
        self.assertEqual(run("--tag", self.version, self.copy).returncode, 0)
        self.assert_fails(f"tag 9.9.9, but CMakeLists.txt says {self.version}", tag="9.9.9")

    def test_the_release_is_dated_in_the_changelog(self):
        text = (ROOT / "CHANGELOG.md").read_text()
        # [Unreleased] may hold the changes since; the next section is this release's.
        self.assertRegex(text, rf"(?m)^## \[Unreleased\]\n(?:(?!## ).*\n)*"
                               rf"## \[{re.escape(self.version)}\] - \d{{4}}-\d\d-\d\d$")

    def test_a_cmake_version_bump_alone_fails(self):
        self.edit("CMakeLists.txt", f"project(netpol VERSION {self.version}",
                  "project(netpol VERSION 0.2.0")
        r = self.assert_fails(
            "CHANGELOG.md: the section after [Unreleased] is "
            f"'## [{self.version}] - ",
            "not '## [0.2.0] - YYYY-MM-DD'",
            f"Dockerfile: ARG NETPOL_VERSION={self.version}, not 0.2.0",
            "ci-templates/network-policy.yml: default image "
            f"'registry.gitlab.com/netpol/netpol:{self.version}', not "
            "registry.gitlab.com/netpol/netpol:0.2.0",
            "README.md: includes network-policy@")
        self.assertIn("mismatch(es) for version 0.2.0", r.stderr)

    def test_an_undated_changelog_fails(self):
        self.edit("CHANGELOG.md", f"## [{self.version}] - ", f"## [{self.version}] ")
        self.assert_fails("CHANGELOG.md: the section after [Unreleased]")

    def test_a_changelog_without_unreleased_fails(self):
        self.edit("CHANGELOG.md", "## [Unreleased]\n", "")
        self.assert_fails("CHANGELOG.md: the first section is")

    def test_a_missing_link_reference_fails(self):
        self.edit("CHANGELOG.md", f"\n[{self.version}]: ", "\n[0.0.9]: ")
        self.assert_fails(f"CHANGELOG.md: no link reference [{self.version}]:")

    def test_the_component_default_image_must_match(self):
        for name in ["ci-templates/network-policy.yml", "templates/network-policy.yml"]:
            self.edit(name, f"netpol/netpol:{self.version}", "netpol/netpol:0.0.9")
        self.assert_fails("ci-templates/network-policy.yml: default image "
                          "'registry.gitlab.com/netpol/netpol:0.0.9'")

    def test_the_auto_devops_default_image_must_match(self):
        self.edit("ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml",
                  f"netpol/netpol:{self.version}", "netpol/netpol:latest")
        self.assert_fails("ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml: default image "
                          "'registry.gitlab.com/netpol/netpol:latest'")

    def test_the_published_template_must_be_the_source(self):
        self.edit("templates/network-policy.yml", "spec:", "spec: ")
        self.assert_fails("templates/network-policy.yml differs from ci-templates/network-policy.yml")

    def test_the_image_label_must_match(self):
        self.edit("Dockerfile", f"ARG NETPOL_VERSION={self.version}", "ARG NETPOL_VERSION=0.0.9")
        self.assert_fails(f"Dockerfile: ARG NETPOL_VERSION=0.0.9, not {self.version}")
        self.edit("Dockerfile", 'org.opencontainers.image.version="${NETPOL_VERSION}"',
                  'org.opencontainers.image.version="dev"')
        self.assert_fails("Dockerfile: no label org.opencontainers.image.version")

    def test_the_readme_include_must_match(self):
        self.edit("README.md", f"network-policy@{self.version}", "network-policy@0.0.9")
        self.assert_fails(f"README.md: includes network-policy@0.0.9, not network-policy@{self.version}")

    def test_usage_errors(self):
        self.assertEqual(run("--bogus").returncode, 2)
        self.assertEqual(run("--tag").returncode, 2)

    def test_the_release_job_runs_it(self):
        text = (ROOT / ".gitlab-ci.yml").read_text()
        job = text[text.index("\nrelease:\n"):]
        job = job[:job.index("\n\n")]
        self.assertIn('scripts/check-release.sh --tag "$CI_COMMIT_TAG"', job)


if __name__ == "__main__":
    unittest.main(verbosity=2)
