#!/usr/bin/env python3
"""drop-log.html as a browser shows it: headless Chromium loads the page that
`netpol drops --from-file` writes for Hubble lines from tests/data/hubble, with the network
cut off, and the DOM after the page's script ran is checked:

- every row of drop-summary.json is a table row, highest count first;
- the page loads nothing from outside (no element with src/href, no request possible);
- a click on the Count header sorts the rows ascending and marks the header, and typing in
  the filter hides the rows that do not match (a copy of the page gets a few lines of script
  that click and type, so the page's own script is what does the work).

Environment:
  NETPOL_BINARY  the built netpol (default build/dev/netpol)
  CHROMIUM       the browser (default: chromium, else chromium-browser, on PATH)
Exits 77 (ctest SKIP_RETURN_CODE) when no Chromium is installed; under CI=true it fails instead.
"""

import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests/data/hubble/hubble-flows-sample.jsonl"
SKIP = 77


def chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Table(html.parser.HTMLParser):
    """The rows of table#drops (cell texts and the row's style) and every src/href."""

    def __init__(self):
        super().__init__()
        self.rows, self.headers, self.external = [], [], []
        self._in_table = self._in_cell = False
        self._cell = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a:
                self.external.append((tag, key, a[key]))
        if tag == "table" and a.get("id") == "drops":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append({"style": a.get("style") or "", "cells": []})
        elif self._in_table and tag == "th":
            self.headers.append(a.get("class") or "")
        elif self._in_table and tag == "td":
            self._in_cell, self._cell = True, ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag == "td" and self._in_cell:
            self.rows[-1]["cells"].append(self._cell.strip())
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self._cell += data


class DropLogHtmlInChromium(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.browser = chromium()
        if cls.browser is None:
            if os.environ.get("CI", "") not in ("", "false", "0"):
                raise AssertionError("chromium is not installed (CI is set: it must be)")
            raise unittest.SkipTest("chromium is not installed")
        cls.tmp = Path(tempfile.mkdtemp(prefix="netpol-drop-log-html."))
        lines = SAMPLE.read_text().splitlines()
        dropped = [l for l in lines if '"verdict":"DROPPED"' in l]
        # Counts 3 and 1, so the sorted order shows; forwarded lines are skipped.
        log = [dropped[1]] * 3 + [dropped[0]] + lines[2:6]
        (cls.tmp / "flows.jsonl").write_text("\n".join(log) + "\n")
        netpol = os.environ.get("NETPOL_BINARY", str(ROOT / "build/dev/netpol"))
        subprocess.run(
            [netpol, "--quiet", "--output-dir", str(cls.tmp / "out"), "drops", "-A",
             "--from-file", str(cls.tmp / "flows.jsonl")],
            check=True, stdout=subprocess.DEVNULL)
        cls.page = cls.tmp / "out/drop-log.html"
        cls.summary = json.loads((cls.tmp / "out/drop-summary.json").read_text())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def dom(self, page):
        args = [
            self.browser, "--headless", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions",
            f"--user-data-dir={self.tmp / 'profile'}",
            # No request can leave the machine: any external asset would fail to load.
            "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
            "--dump-dom", page.as_uri(),
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=120)
        table = Table()
        table.feed(out.stdout)
        self.assertIn("<table", out.stdout, out.stderr[-2000:])
        return table

    def test_rows_are_rendered_in_count_order_without_external_assets(self):
        table = self.dom(self.page)
        self.assertEqual(table.external, [])
        rows = self.summary["rows"]
        self.assertEqual(len(rows), 2)
        self.assertEqual(len(table.rows), len(rows) + 1)  # the header row, then one per row
        body = table.rows[1:]
        self.assertEqual([r["cells"][8] for r in body], [str(r["count"]) for r in rows])
        self.assertEqual([r["cells"][8] for r in body], ["3", "1"])
        self.assertEqual([r["cells"][0] for r in body], ["DROPPED", "DROPPED"])
        self.assertEqual(body[0]["cells"][6], "POLICY_DENIED")
        self.assertEqual(body[1]["cells"][6], "INVALID_SOURCE_IP")

    def test_header_click_sorts_and_filter_hides_rows(self):
        clicked = self.tmp / "clicked.html"
        script = (
            "<script>"
            "document.querySelectorAll('#drops th')[8].click();"
            "var f = document.getElementById('filter');"
            "f.value = 'invalid_source';"
            "f.dispatchEvent(new Event('input'));"
            "</script>"
        )
        clicked.write_text(self.page.read_text().replace("</body>", script + "</body>"))
        table = self.dom(clicked)
        body = table.rows[1:]
        self.assertEqual([r["cells"][8] for r in body], ["1", "3"])  # ascending after one click
        self.assertIn("asc", table.headers[8])
        shown = [r["cells"][6] for r in body if "none" not in r["style"]]
        self.assertEqual(shown, ["INVALID_SOURCE_IP"])


if __name__ == "__main__":
    if chromium() is None:
        # Under CI=true a missing browser fails the test instead of skipping it.
        ci = os.environ.get("CI", "") not in ("", "false", "0")
        print(("FAIL" if ci else "SKIP") + ": chromium is not installed", file=sys.stderr)
        sys.exit(1 if ci else SKIP)
    unittest.main()
