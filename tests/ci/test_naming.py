#!/usr/bin/env python3
"""The naming rules of .clang-tidy (its WarningsAsErrors) (readability-identifier-naming: classes CamelCase,
functions lower_case, private members m_) are errors: every translation unit under src/
passes them, and a made-up file that breaks one fails with the identifier named.

Needs run-clang-tidy / clang-tidy (Debian's clang-tidy-14) and the build's
compile_commands.json (NETPOL_BUILD_DIR).
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKS = "-*,readability-identifier-naming"


def tool(*names):
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


CLANG_TIDY = tool("clang-tidy-14", "clang-tidy")
RUN_CLANG_TIDY = tool("run-clang-tidy-14", "run-clang-tidy")
MISSING = CLANG_TIDY is None or RUN_CLANG_TIDY is None


class NamingTest(unittest.TestCase):
    def setUp(self):
        if MISSING:  # installed by scripts/install-deps.sh; a check that cannot run fails
            self.fail("clang-tidy-14 is not installed: scripts/install-deps.sh installs it")

    def test_every_source_file_keeps_the_naming_rules(self):
        build = Path(os.environ.get("NETPOL_BUILD_DIR", ROOT / "build" / "dev"))
        self.assertTrue((build / "compile_commands.json").is_file(), build)
        r = subprocess.run(
            [RUN_CLANG_TIDY, "-p", str(build), "-j", str(os.cpu_count() or 2), "-quiet",
             "-clang-tidy-binary", CLANG_TIDY, f"-checks={CHECKS}", str(ROOT / "src") + "/"],
            capture_output=True, text=True, check=False)
        findings = [l for l in r.stdout.splitlines() if " error: " in l or " warning: " in l]
        self.assertEqual(findings, [], r.stdout[-4000:])
        self.assertEqual(r.returncode, 0, r.stdout[-4000:] + r.stderr[-2000:])

    def test_a_name_that_breaks_a_rule_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "bad.cpp"
            src.write_text("class bad_name {\n public:\n  int Get() const { return m_x; }\n"
                           " private:\n  int m_x = 0;\n};\n")
            (Path(tmp) / "compile_commands.json").write_text(json.dumps(
                [{"directory": tmp, "file": str(src),
                  "command": f"c++ -std=c++20 -c {src}"}]))
            r = subprocess.run(
                [CLANG_TIDY, "-p", tmp, f"--config-file={ROOT / '.clang-tidy'}",
                 f"-checks={CHECKS}", str(src)],
                capture_output=True, text=True, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("invalid case style for class 'bad_name'", r.stdout)
        self.assertIn("invalid case style for function 'Get'", r.stdout)


if __name__ == "__main__":
    unittest.main()
