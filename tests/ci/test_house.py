#!/usr/bin/env python3
"""The house rules of src/ (docs/development.md, "Floors"), checked on the tree:

- a folder includes only from its own floor or below (util → report, kube, model → policy,
  analyze, detect → cilium, droplog → pipeline → cli);
- nothing outside src/cli/ includes Boost.Program_options;
- no source file is longer than 800 lines.

Each check is also run on a small made-up tree that breaks it, and must fail there.
"""

import re
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The floor of each folder under src/; a folder includes from its floor or below.
FLOORS = {
    "util": 0,
    "report": 1,
    "kube": 1,
    "model": 1,
    "policy": 2,
    "analyze": 2,
    "detect": 2,
    "cilium": 3,
    "droplog": 3,
    "pipeline": 4,
    "cli": 5,
}
MAX_LINES = 800
INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^>"]+)[>"]', re.M)


def sources(src):
    return sorted(p for p in src.rglob("*") if p.suffix in (".cpp", ".hpp"))


def violations(src):
    """Every breach of the house rules under `src`, one line each."""
    found = []
    for path in sources(src):
        rel = path.relative_to(src)
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_LINES:
            found.append(f"{rel}: {lines} lines (at most {MAX_LINES}): split it by concept")
        if len(rel.parts) < 2:
            continue  # main.cpp
        folder = rel.parts[0]
        if folder not in FLOORS:
            found.append(f"{rel}: folder {folder}/ has no floor: add it to FLOORS and to "
                         "docs/development.md")
            continue
        for match in INCLUDE.finditer(text):
            target = match.group(1)
            line = text.count("\n", 0, match.start()) + 1
            if target.startswith("boost/program_options") and folder != "cli":
                found.append(f"{rel}:{line}: includes {target}: only cli/ parses the command "
                             "line; pass a typed options struct down")
            head = target.split("/", 1)[0]
            if "/" in target and head in FLOORS and FLOORS[head] > FLOORS[folder]:
                found.append(f"{rel}:{line}: includes {target}: {head}/ is above {folder}/ "
                             "(move the shared part down)")
    return found


class HouseTest(unittest.TestCase):
    def test_the_tree_keeps_the_house_rules(self):
        self.assertEqual(violations(ROOT / "src"), [])

    def test_every_folder_has_a_floor(self):
        folders = {p.name for p in (ROOT / "src").iterdir() if p.is_dir()}
        self.assertEqual(folders - FLOORS.keys(), set())

    def test_each_rule_fails_on_a_tree_that_breaks_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp)
            (src / "policy").mkdir()
            (src / "util").mkdir()
            (src / "gadgets").mkdir()
            (src / "policy" / "ok.cpp").write_text('#include "util/x.hpp"\n#include <string>\n')
            (src / "util" / "up.cpp").write_text('#include <vector>\n#include "cli/context.hpp"\n')
            (src / "policy" / "po.cpp").write_text("#include <boost/program_options.hpp>\n")
            (src / "util" / "big.cpp").write_text("int x;\n" * (MAX_LINES + 1))
            (src / "gadgets" / "g.cpp").write_text("\n")
            found = violations(src)
        self.assertEqual(len(found), 4, found)
        self.assertIn("util/up.cpp:2: includes cli/context.hpp: cli/ is above util/", found[3])
        self.assertIn("policy/po.cpp:1: includes boost/program_options.hpp", found[1])
        self.assertIn("util/big.cpp: 801 lines", found[2])
        self.assertIn("folder gadgets/ has no floor", found[0])


if __name__ == "__main__":
    unittest.main()
