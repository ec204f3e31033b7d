"""The parts of GitLab's pipeline engine the template tests need, written from GitLab's
documentation: loading a template with a `spec:` header, checking and interpolating
`$[[ inputs.x ]]`, resolving `extends`, evaluating `rules:if` expressions, and the rules
GitLab states for `artifacts:expose_as` and dotenv reports.

Everything here raises GitLabError where GitLab would refuse the configuration.
"""

import copy
import os
import functools
import re
import unittest

import yaml


class GitLabError(Exception):
    """GitLab would reject the configuration (or the expression) with this message."""


# ---------------------------------------------------------------------------------------
# Loading


class _Reference(list):
    """An `!reference [job, key]` tag, kept as its path."""


class _Loader(yaml.SafeLoader):
    """YAML 1.1 like GitLab's Psych, plus GitLab's `!reference` tag."""


_Loader.add_constructor(
    "!reference", lambda loader, node: _Reference(loader.construct_sequence(node))
)


def in_ci():
    """CI is set, and not "false" or "0" (GitLab CI and the project's CI entry point set it)."""
    return os.environ.get("CI", "") not in ("", "false", "0")


def skip_or_fail(message, elsewhere=False):
    """Skips the running test, or under CI=true fails it: CI never passes by running less.
    With `elsewhere`, a run that said the test runs as a test of its own
    (NETPOL_CLUSTER_TESTS_RUN_SEPARATELY, set by ctest for ci.templates) skips it also in CI."""
    if elsewhere and os.environ.get("NETPOL_CLUSTER_TESTS_RUN_SEPARATELY"):
        raise unittest.SkipTest(message + " (runs as its own ctest test, with the cluster)")
    if in_ci():
        raise AssertionError(message + " (CI is set: what a test needs must be there)")
    raise unittest.SkipTest(message)


def load_documents(text):
    return list(yaml.load_all(text, Loader=_Loader))


def load_template(path):
    """Returns (spec, body) of a CI file: spec is None for a file without a `spec:` header."""
    with open(path, encoding="utf-8") as f:
        docs = load_documents(f.read())
    if len(docs) == 2 and isinstance(docs[0], dict) and set(docs[0]) == {"spec"}:
        return docs[0]["spec"], docs[1]
    if len(docs) == 1:
        return None, docs[0]
    raise GitLabError(f"{path}: expected one document, or a spec header and one document")


# ---------------------------------------------------------------------------------------
# Inputs (doc/ci/inputs): types, options, regex, then interpolation


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
}


def resolve_inputs(spec, given):
    """The inputs' values: `given` checked against the spec, defaults for the rest."""
    declared = (spec or {}).get("inputs") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise GitLabError(f"unknown input arguments: {', '.join(unknown)}")
    values = {}
    for name, decl in declared.items():
        decl = decl or {}
        if name in given:
            value = given[name]
        elif "default" in decl:
            value = decl["default"]
        else:
            raise GitLabError(f"`{name}` input: required value has not been provided")
        kind = decl.get("type", "string")
        if kind not in _TYPES:
            raise GitLabError(f"`{name}` input: unknown input type `{kind}`")
        if not _TYPES[kind](value):
            raise GitLabError(f"`{name}` input: provided value is not a {kind}")
        if "options" in decl and value not in decl["options"]:
            raise GitLabError(
                f"`{name}` input: `{value}` cannot be used because it is not in the list of "
                f"allowed options"
            )
        if "regex" in decl:
            if kind != "string":
                raise GitLabError(f"`{name}` input: RegEx validation can only be used with string")
            if not re.search(decl["regex"], value):
                raise GitLabError(f"`{name}` input: provided value does not match required RegEx")
        values[name] = value
    return values


_BLOCK = re.compile(r"\$\[\[\s*(.*?)\s*\]\]")


def _block_value(expr, values):
    if "|" in expr:
        raise GitLabError(f"interpolation functions are not modelled here: {expr}")
    if not expr.startswith("inputs."):
        raise GitLabError(f"unknown interpolation key: `{expr}`")
    name = expr[len("inputs.") :]
    if name not in values:
        raise GitLabError(f"unknown interpolation key: `{name}`")
    return values[name]


def _to_text(value):
    # Ruby's to_s for the scalar types inputs can have.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _interpolate_string(text, values):
    blocks = list(_BLOCK.finditer(text))
    if not blocks:
        return text
    # A value that is one block and nothing else keeps the input's type.
    if len(blocks) == 1 and blocks[0].span() == (0, len(text)):
        return copy.deepcopy(_block_value(blocks[0].group(1), values))
    return _BLOCK.sub(lambda m: _to_text(_block_value(m.group(1), values)), text)


def interpolate(node, values):
    """GitLab's interpolation: walks keys and values of the parsed body."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            new_key = _interpolate_string(key, values) if isinstance(key, str) else key
            if not isinstance(new_key, (str, int, float, bool)):
                raise GitLabError(f"interpolated key `{key}` is not a scalar")
            out[new_key] = interpolate(value, values)
        return out
    if isinstance(node, _Reference):
        return node
    if isinstance(node, list):
        return [interpolate(v, values) for v in node]
    if isinstance(node, str):
        return _interpolate_string(node, values)
    return node


def render(path, given=None):
    """The body of the template at `path` as GitLab includes it with inputs `given`."""
    spec, body = load_template(path)
    return interpolate(body, resolve_inputs(spec, given or {}))


# ---------------------------------------------------------------------------------------
# Jobs

# Top-level keywords that are not jobs (doc/ci/yaml: global keywords).
GLOBAL_KEYWORDS = {
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
}


def jobs(config):
    """Visible and hidden jobs of a config, by name."""
    return {k: v for k, v in config.items() if k not in GLOBAL_KEYWORDS and isinstance(v, dict)}


def _deep_merge(base, override):
    # extends: hashes merge deeply, every other value (arrays included) is replaced.
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_extends(config, name, _seen=()):
    """The job `name` with its `extends` chain merged in, as GitLab does."""
    all_jobs = jobs(config)
    if name not in all_jobs:
        raise GitLabError(f"{name}: unknown key in `extends`")
    if name in _seen:
        raise GitLabError(f"{name}: circular dependency detected in `extends`")
    job = all_jobs[name]
    parents = job.get("extends", [])
    if isinstance(parents, str):
        parents = [parents]
    merged = {}
    for parent in parents:
        merged = _deep_merge(merged, resolve_extends(config, parent, _seen + (name,)))
    merged = _deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})
    return merged


# ---------------------------------------------------------------------------------------
# rules:if expressions (doc/ci/jobs/job_rules: CI/CD variable expressions)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<var>\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\})
    | (?P<str>"[^"]*"|'[^']*')
    | (?P<regex>/(?:\\.|[^/\\])*/[a-z]*)
    | (?P<null>null\b)
    | (?P<op>==|!=|=~|!~|&&|\|\||\(|\))
    )""",
    re.VERBOSE,
)


@functools.lru_cache(maxsize=None)
def _tokens(expression):
    pos, out = 0, []
    text = expression.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise GitLabError(f"invalid expression syntax: {expression}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return tuple(out)


class _Parser:
    """Recursive descent: `||` binds looser than `&&`, comparisons bind tightest."""

    def __init__(self, expression, variables):
        self.tokens = _tokens(expression)
        self.pos = 0
        self.variables = variables
        self.expression = expression

    def parse(self):
        value = self._or()
        if self.pos != len(self.tokens):
            raise GitLabError(f"invalid expression syntax: {self.expression}")
        return value

    def _peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def _take(self):
        tok = self._peek()
        self.pos += 1
        return tok

    def _or(self):
        value = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            right = self._and()
            value = value or right
        return value

    def _and(self):
        value = self._comparison()
        while self._peek() == ("op", "&&"):
            self._take()
            right = self._comparison()
            value = value and right
        return value

    def _comparison(self):
        if self._peek() == ("op", "("):
            self._take()
            value = self._or()
            if self._take() != ("op", ")"):
                raise GitLabError(f"invalid expression syntax: {self.expression}")
            return value
        left = self._operand()
        kind, op = self._peek()
        if kind == "op" and op in ("==", "!="):
            self._take()
            right = self._operand()
            return (left == right) if op == "==" else (left != right)
        if kind == "op" and op in ("=~", "!~"):
            self._take()
            rkind, rtext = self._take()
            if rkind != "regex":
                raise GitLabError(f"invalid expression syntax: {self.expression}")
            body, flags = rtext[1:].rsplit("/", 1)
            matched = left is not None and re.search(
                body, left, re.IGNORECASE if "i" in flags else 0
            )
            return bool(matched) if op == "=~" else not matched
        # A lone variable is true when it is defined and not empty.
        return bool(left)

    def _operand(self):
        kind, text = self._take()
        if kind == "var":
            return self.variables.get(text.strip("${}"))
        if kind == "str":
            return text[1:-1]
        if kind == "null":
            return None
        raise GitLabError(f"invalid expression syntax: {self.expression}")


def evaluate(expression, variables):
    """Value of a `rules:if` expression; `variables` maps names to values, unset = absent."""
    return _Parser(expression, variables).parse()


def rules_outcome(job, variables):
    """`when` of the job in a pipeline with these variables; "never" = not in the pipeline."""
    rules = job.get("rules")
    if rules is None:
        return job.get("when", "on_success")
    for rule in rules:
        unsupported = set(rule) - {"if", "when", "start_in", "allow_failure", "variables"}
        if unsupported:
            raise GitLabError(f"rules keys not modelled here: {sorted(unsupported)}")
        if "if" not in rule or evaluate(rule["if"], variables):
            return rule.get("when", job.get("when", "on_success"))
    return "never"


# ---------------------------------------------------------------------------------------
# Artifacts


def expose_as_problems(artifacts):
    """Why GitLab would not show `artifacts:expose_as` in merge requests (doc/ci/yaml,
    artifacts:expose_as); empty when it would."""
    problems = []
    if "expose_as" not in artifacts:
        return problems
    paths = artifacts.get("paths") or []
    if not paths:
        problems.append("expose_as needs artifacts:paths")
    for p in paths:
        if "$" in p:
            problems.append(f"{p}: CI/CD variables in a path")
        if any(c in p for c in "*?[]{}"):
            problems.append(f"{p}: glob in a path")
        if p.startswith("./"):
            problems.append(f"{p}: path starts with ./")
    return problems


_DOTENV_KEY = re.compile(r"^[A-Za-z0-9_]+$")


def dotenv_problems(text):
    """Why GitLab would reject a dotenv report (doc/ci/yaml/artifacts_reports: dotenv);
    empty when it would accept it."""
    problems = []
    raw = text.encode("utf-8")
    if len(raw) > 5 * 1024:
        problems.append(f"{len(raw)} bytes: more than 5 KB")
    for number, line in enumerate(text.split("\n"), 1):
        if line == "" and number == len(text.split("\n")):
            continue  # the final newline
        if line.strip() == "":
            problems.append(f"line {number}: empty line")
            continue
        if line.lstrip().startswith("#"):
            problems.append(f"line {number}: comment")
            continue
        key, sep, value = line.partition("=")
        if not sep:
            problems.append(f"line {number}: no KEY=VALUE")
        elif not _DOTENV_KEY.match(key):
            problems.append(f"line {number}: key {key!r}: only letters, digits and _")
        elif any(c.isspace() for c in value):
            problems.append(f"line {number}: whitespace in the value of {key}")
        elif value[:1] in ("'", '"'):
            problems.append(f"line {number}: quotes in the value of {key} are kept literally")
    return problems
