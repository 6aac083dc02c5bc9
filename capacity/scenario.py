"""Scenario files: YAML in, a resolved and validated Scenario out.

The settings dataclasses (ProjectionSettings, GapSettings, PlanSettings) are the single
source of truth for keys, types and defaults; docs/scenario-reference.md is generated from
them. Every error names the file, the key path and the line.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

import yaml

from capacity.data.district import BUNDLED_DISTRICTS
from capacity.errors import ScenarioError
from capacity.gap.settings import GapSettings
from capacity.grades import GradeSystem
from capacity.plan.settings import PlanSettings
from capacity.projection.settings import ProjectionSettings
from capacity.report.settings import ReportSettings
from capacity.report.targets import Target, parse_targets
from capacity.standards import MOVED_TO_STANDARDS, PER_STAGE_KEYS, Standards, fill_stages, fit_to_system, stage_defaults, system_defaults

SECTIONS: dict[str, type] = {
    "standards": Standards,
    "projection": ProjectionSettings,
    "gap": GapSettings,
    "plan": PlanSettings,
    "report": ReportSettings,
}
TOP_KEYS: dict[str, str] = {
    "name": "short name of the scenario (default: the file name)",
    "description": "one or two sentences for the report",
    "extends": "a scenario file (relative to this one) whose settings this one overrides",
    "district": "'example' (the bundled county), 'example_us' (the bundled US district) or a district folder / .xlsx workbook "
    "(relative to this file)",
    "horizon": "years projected and planned (1-20)",
    "run_plan": "whether `capacity run` solves the plan (false: projection and gap only)",
    "standards": "class sizes, classroom cost and school size caps, read by the gap and the plan (see below)",
    "projection": "projection settings (see below)",
    "gap": "seat-gap report settings (see below)",
    "plan": "plan settings (see below)",
    "report": "report, budget workbook and school-level warning settings (see below)",
    "targets": "named action-plan targets: seats_added / seats_reached (area, stages, sector, by) or a policy (docs/howto/targets.md)",
    "overrides": "named groups of settings that `--override NAME,...` applies on top",
    "sweep": "'section.key': [values ...]; the product of all lists becomes one scenario each",
}
TOP_DEFAULTS: dict[str, object] = {"district": "example", "horizon": 10, "run_plan": True}


def run_label(scenario: str, overrides) -> str:
    """'scenario' or 'scenario + group1 + group2': a scenario and its override variants apart."""
    return " + ".join([scenario, *overrides])


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: every setting known, checked and hashed."""

    name: str
    description: str
    files: tuple[str, ...]
    district: str
    horizon: int
    run_plan: bool
    projection: ProjectionSettings
    gap: GapSettings
    plan: PlanSettings
    overrides_applied: tuple[str, ...] = ()
    sweep_values: dict = field(default_factory=dict)
    resolved: dict = field(default_factory=dict)
    report: ReportSettings = field(default_factory=ReportSettings)
    targets: tuple[Target, ...] = ()
    given: dict = field(default_factory=dict)
    """Section -> keys the scenario files set (the rest took defaults; see :func:`fit_scenario`); '' holds the top-level keys."""

    @property
    def label(self) -> str:
        """The option's name as every output shows it: 'name', or 'name + group ...' with override groups."""
        return run_label(self.name, self.overrides_applied)

    @property
    def standards(self) -> Standards:
        """Class sizes, classroom cost and school size caps (the one home the gap and plan read)."""
        return self.plan.standards

    @property
    def district_path(self) -> str | None:
        """Path of the district, or None for the bundled example county."""
        if self.district == "example":
            return None
        return str(BUNDLED_DISTRICTS[self.district]) if self.district in BUNDLED_DISTRICTS else self.district

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved settings (canonical JSON; the name is not a setting)."""
        return hashlib.sha256(canonical_json({k: v for k, v in self.resolved.items() if k != "name"}).encode()).hexdigest()


def canonical_json(obj: object) -> str:
    """JSON with sorted keys and no spaces, tuples as lists: equal settings give equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=list)


# --- reading YAML with line numbers -----------------------------------------------------------


MAX_YAML_BYTES = 1_000_000
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 30


def _yaml_size(node, path: Path) -> None:
    """Refuse alias bombs and deep nesting before the data is used (counts aliases expanded)."""
    sizes: dict[int, int] = {}
    stack = [(node, 1, False)]
    while stack:
        n, depth, done = stack.pop()
        if depth > MAX_YAML_DEPTH:
            raise ScenarioError(
                f"{path}, line {n.start_mark.line + 1}: found settings nested {depth} levels deep; expected at most {MAX_YAML_DEPTH}"
            )
        kids = [x for kv in n.value for x in kv] if isinstance(n, yaml.MappingNode) else n.value if isinstance(n, yaml.SequenceNode) else []
        if done:
            sizes[id(n)] = 1 + sum(sizes.get(id(k), 1) for k in kids)
            if sizes[id(n)] > MAX_YAML_NODES:
                raise ScenarioError(
                    f"{path}: found more than {MAX_YAML_NODES:,} values once anchors and aliases (&, *) are expanded; "
                    "expected a plain scenario (an alias bomb is refused)"
                )
            continue
        if id(n) in sizes:
            continue
        stack.append((n, depth, True))
        stack.extend((k, depth + 1, False) for k in kids if id(k) not in sizes)


def read_yaml(path: Path) -> tuple[dict, dict[tuple, int]]:
    """Safe-load a YAML mapping and the line of every key path (1-based)."""
    if path.is_dir():
        raise ScenarioError(f"{path}: found a folder; expected a scenario file (.yaml)")
    if path.exists() and not path.is_file():
        raise ScenarioError(f"{path}: found a special file (pipe or device); expected a scenario file (.yaml)")
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise ScenarioError(f"{path}: found {path.stat().st_size:,} bytes; expected a scenario file below {MAX_YAML_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8") from None
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read it ({e.strerror}); expected a readable scenario file") from None
    depth = 0
    for m in re.finditer(r"[\[\]{}]", text):  # flow nesting, checked before the parser recurses into it
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_YAML_DEPTH:
            line = text.count("\n", 0, m.start()) + 1
            raise ScenarioError(
                f"{path}, line {line}: found settings nested more than {MAX_YAML_DEPTH} levels deep; expected at most {MAX_YAML_DEPTH}"
            )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _yaml_size(node, path)
        data = yaml.safe_load(text)
    except RecursionError:
        raise ScenarioError(f"{path}: found settings nested too deeply to read; expected at most {MAX_YAML_DEPTH} levels") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{path}{line}: not valid YAML ({e.problem})") from None
    except yaml.YAMLError as e:
        raise ScenarioError(f"{path}: not valid YAML ({e})") from None
    if data is None:
        raise ScenarioError(f"{path}: found an empty file; expected a mapping of settings (district: ..., horizon: ...)")
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}, line 1: found a {type(data).__name__}; expected a mapping of keys (name: ..., projection: ...)")
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines, path)
    return data, lines


def _walk(node, prefix: tuple, lines: dict, path: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for k, v in node.value:
            key = k.value
            if not isinstance(k, yaml.ScalarNode):
                raise ScenarioError(f"{path}, line {k.start_mark.line + 1}: found a list or mapping as a key; expected a plain key name")
            if key in seen:
                raise ScenarioError(f"{path}, line {k.start_mark.line + 1}: key '{'.'.join(map(str, prefix + (key,)))}' is given twice")
            seen.add(key)
            lines[prefix + (key,)] = k.start_mark.line + 1
            _walk(v, prefix + (key,), lines, path)


# --- merging ------------------------------------------------------------------------------------


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``: mappings merge key by key, anything else is replaced."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("class_size", "bands"):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _key_paths(d: dict, prefix: tuple = ()) -> set[tuple]:
    """Settings a group sets: 'section.key' (a mapping-valued setting counts as one key)."""
    out = set()
    for k, v in d.items():
        if not prefix and isinstance(v, dict):
            out |= {(k, kk) for kk in v} or {(k,)}
        else:
            out.add(prefix + (k,))
    return out


def load_chain(path: Path, stack: tuple[Path, ...] = ()) -> tuple[dict, dict, tuple[str, ...]]:
    """Read a scenario and everything it extends; returns merged data, line map and files."""
    path = path.resolve()
    if path in stack:
        chain = " -> ".join(p.name for p in (*stack, path))
        raise ScenarioError(f"{stack[-1]}: 'extends' makes a cycle ({chain}); a scenario cannot extend itself")
    data, lines = read_yaml(path)
    where = {k: (str(path), n) for k, n in lines.items()}
    files = (str(path),)
    base = data.pop("extends", None)
    if base is not None:
        if not isinstance(base, str):
            raise ScenarioError(f"{path}, line {lines.get(('extends',), 1)}: extends: found {base!r}; expected a file name")
        bpath = (path.parent / base).resolve()
        if not bpath.exists():
            raise ScenarioError(f"{path}, line {lines.get(('extends',), 1)}: extends: no such file {bpath}")
        if bpath.is_dir():
            raise ScenarioError(f"{path}, line {lines.get(('extends',), 1)}: extends: found the folder {bpath}; expected a scenario file")
        bdata, bwhere, bfiles = load_chain(bpath, (*stack, path))
        bdata.pop("name", None)
        merged = deep_merge(bdata, data)
        where = {**bwhere, **where}
        files = bfiles + files
        data = merged
    if "district" in data and isinstance(data["district"], str) and data["district"] not in BUNDLED_DISTRICTS and ("district",) in lines:
        data["district"] = str((path.parent / data["district"]).resolve())
    return data, where, files


# --- validation ---------------------------------------------------------------------------------


def _place(where: dict, keypath: tuple) -> str:
    for n in range(len(keypath), 0, -1):
        if keypath[:n] in where:
            f, line = where[keypath[:n]]
            return f"{f}, line {line}"
    return "scenario"


def _unknown(key: str, allowed, keypath: tuple, where: dict) -> ScenarioError:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    dotted = ".".join(map(str, keypath))
    return ScenarioError(f"{_place(where, keypath)}: unknown key '{dotted}'{hint}; allowed: {', '.join(sorted(map(str, allowed)))}")


FRIENDLY = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}


def _type_name(tp) -> str:
    return FRIENDLY.get(tp) or getattr(tp, "__name__", str(tp)).replace("typing.", "")


def check_type(value, tp, keypath: tuple, where: dict):
    """Check ``value`` against a type hint; returns it converted (lists to tuples where the type wants)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    dotted = ".".join(map(str, keypath))

    def bad(expected: str):
        hint = ""
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+", value):
            mantissa, exponent = re.split("[eE]", value)
            fixed = f"{mantissa if '.' in mantissa else mantissa + '.0'}e{exponent if exponent[0] in '+-' else '+' + exponent}"
            hint = f" (YAML reads {value} as text: write it with a decimal point and a signed exponent, e.g. {fixed}, or as a plain number)"
        return ScenarioError(f"{_place(where, keypath)}: {dotted}: found {value!r}; expected {expected}{hint}")

    if tp is object or tp is typing.Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        errors = []
        for a in rest:
            try:
                return check_type(value, a, keypath, where)
            except ScenarioError as e:
                errors.append(e)
        raise bad(" or ".join(_type_name(a) for a in rest) + (" or null" if type(None) in args else ""))
    if tp is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad("text")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise bad("a mapping")
        kt, vt = args if args else (str, object)
        return {check_type(k, kt, keypath + (k,), where): check_type(v, vt, keypath + (k,), where) for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise bad("a list")
        inner = args[0] if args else object
        items = [check_type(v, inner, keypath + (i,), where) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    return value


def build_section(cls: type, values: dict, section: str, where: dict):
    """Construct one settings dataclass from a mapping, with typed, placed errors."""
    if not isinstance(values, dict):
        raise ScenarioError(f"{_place(where, (section,))}: {section}: found {values!r}; expected a mapping of settings")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    kwargs = {}
    problems: list[str] = []
    for k, v in values.items():
        try:
            if k not in names:
                raise _unknown(k, names, (section, k), where)
            kwargs[k] = check_type(v, hints[k], (section, k), where)
        except ScenarioError as e:
            problems.append(str(e))
    if problems:
        raise ScenarioError("\n".join(problems))
    try:
        return cls(**kwargs)
    except ScenarioError as e:
        lines = [ln[4:] for ln in str(e).splitlines() if ln.startswith("  - ")] or [str(e)]
        placed = []
        for ln in lines:
            m = re.match(rf"{section}\.([A-Za-z_0-9]+)", ln)
            placed.append(f"{_place(where, (section, m.group(1))) if m else _place(where, (section,))}: {ln}")
        raise ScenarioError("\n".join(placed)) from None


def resolve(data: dict, where: dict, files: tuple[str, ...], name: str, overrides: tuple[str, ...] = ()) -> Scenario:
    """Apply override groups, check every key and build the Scenario."""
    data = copy.deepcopy(data)
    groups = data.pop("overrides", {}) or {}
    data.pop("sweep", None)
    if not isinstance(groups, dict):
        raise ScenarioError(f"{_place(where, ('overrides',))}: overrides: expected a mapping of named groups")
    set_by: dict[tuple, str] = {}
    for g in overrides:
        if g not in groups:
            close = difflib.get_close_matches(g, list(groups), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ScenarioError(f"{files[-1]}: override group '{g}' is not defined{hint}; defined: {', '.join(sorted(groups)) or 'none'}")
        grp = groups[g]
        if not isinstance(grp, dict):
            raise ScenarioError(f"{_place(where, ('overrides', g))}: overrides.{g}: expected a mapping of settings")
        where = dict(where)
        for kp in _key_paths(grp):
            if kp in set_by:
                raise ScenarioError(
                    f"{_place(where, ('overrides', g, *kp))}: override groups '{set_by[kp]}' and '{g}' both set "
                    f"{'.'.join(map(str, kp))}; apply one of them"
                )
            set_by[kp] = g
            # errors in a value set by this group point at the line in the group, not the base
            for known in [w for w in where if w[: len(kp)] == kp]:
                del where[known]
            for w, loc in list(where.items()):
                if w[:2] == ("overrides", g) and w[2 : 2 + len(kp)] == kp:
                    where[w[2:]] = loc
        for w, loc in list(where.items()):  # the group's own sections (an unknown one too) keep their lines
            if w[:2] == ("overrides", g) and len(w) > 2:
                where.setdefault(w[2:], loc)
        data = deep_merge(data, grp)
    problems: list[str] = []

    def attempt(fn, *args):
        try:
            return fn(*args)
        except ScenarioError as e:
            problems.append(str(e))
            return None

    for k in data:
        if k not in TOP_KEYS:
            problems.append(str(_unknown(k, TOP_KEYS, (k,), where)))
    top = {**TOP_DEFAULTS, **{k: v for k, v in data.items() if k in TOP_DEFAULTS}}
    horizon = attempt(check_type, top["horizon"], int, ("horizon",), where)
    if horizon is not None and not 1 <= horizon <= 20:
        problems.append(f"{_place(where, ('horizon',))}: horizon: found {horizon}; expected 1 to 20 years")
        horizon = None
    district = attempt(check_type, top["district"], str, ("district",), where)
    run_plan = attempt(check_type, top["run_plan"], bool, ("run_plan",), where)
    proj_values = {} if data.get("projection") is None else data["projection"]
    if isinstance(proj_values, dict) and "horizon" in proj_values:
        problems.append(f"{_place(where, ('projection', 'horizon'))}: set the horizon at the top level (horizon: N), not under projection")
    elif isinstance(proj_values, dict):
        proj_values = {**proj_values, "horizon": horizon if horizon is not None else TOP_DEFAULTS["horizon"]}
    projection = attempt(build_section, ProjectionSettings, proj_values, "projection", where)
    standards = attempt(build_section, Standards, {} if data.get("standards") is None else data["standards"], "standards", where)
    moved = (*MOVED_TO_STANDARDS, "standards")
    sections = {}
    for sec in ("gap", "plan"):
        values = {} if data.get(sec) is None else data[sec]
        if isinstance(values, dict):
            for k in moved:
                if k in values:
                    key = f"standards.{k}" if k != "standards" else "the top-level standards section"
                    problems.append(
                        f"{_place(where, (sec, k))}: {sec}.{k}: this figure has one home, read by both the gap and the plan; "
                        f"did you mean {key}? (move it there)"
                    )
            values = {k: v for k, v in values.items() if k not in moved}
        sections[sec] = values
    gap = attempt(build_section, GapSettings, sections["gap"], "gap", where)
    plan = attempt(build_section, PlanSettings, sections["plan"], "plan", where)
    if standards is not None:
        gap = gap.with_(standards=standards) if gap is not None else None
        plan = plan.with_(standards=standards) if plan is not None else None
    report = attempt(build_section, ReportSettings, {} if data.get("report") is None else data["report"], "report", where)
    if report is not None and report.teachers_on_hand and ("report", "teachers_on_hand") in where:
        report = report.with_(
            teachers_on_hand=str((Path(where[("report", "teachers_on_hand")][0]).parent / report.teachers_on_hand).resolve())
        )
    targets = attempt(parse_targets, data.get("targets"), lambda kp: _place(where, kp))
    nm = data.get("name", name)
    problems += [f"{_place(where, ('name',))}: {p}" for p in name_problems(nm)]
    if plan is not None and plan.solver_options:
        from capacity.plan.solve import solver_option_problems

        problems += [f"{_place(where, ('plan', 'solver_options'))}: {p}" for p in solver_option_problems(plan)]
    if problems:
        count = sum(len(p.splitlines()) for p in problems)
        head = f"{count} problems in the scenario:\n" if count > 1 else ""
        raise ScenarioError(head + "\n".join(problems))
    resolved = {
        "name": nm,
        "district": district,
        "horizon": horizon,
        "run_plan": run_plan,
        "standards": standards.as_dict(),
        "projection": projection.as_dict(),
        "gap": {k: v for k, v in gap.as_dict().items() if k != "standards"},
        "plan": {k: v for k, v in plan.as_dict().items() if k != "standards"},
        "report": report.as_dict(),
        "targets": data.get("targets") or {},
    }
    resolved = json.loads(canonical_json(resolved))
    return Scenario(
        nm,
        str(data.get("description", "")),
        files,
        district,
        horizon,
        run_plan,
        projection,
        gap,
        plan,
        tuple(overrides),
        {},
        resolved,
        report,
        targets,
        {"": sorted(k for k in data if k in TOP_KEYS), **{sec: sorted(data[sec]) for sec in SECTIONS if isinstance(data.get(sec), dict)}},
    )


def fit_scenario(scenario: Scenario, grades: GradeSystem) -> Scenario:
    """The scenario for a district with grade system ``grades``, checked when a run starts.

    Grade- and stage-keyed settings the scenario files did not set take the system's defaults
    (capacity.standards.SYSTEM_DEFAULTS; China's are the settings' own); a per-stage setting
    (capacity.standards.PER_STAGE_KEYS) given for some stages takes the defaults for the others.
    The note lists every key taken ('standards.class_size.elementary'). Every setting that names
    a grade or stage the district lacks, or still lacks one of its stages (a custom system has
    no default money, distances or staffing), is refused naming the key. The resolved settings (scenario.json, hash) record what the run uses.

    Raises
    ------
    ScenarioError
        Listing every key that does not fit the system.
    """

    top = scenario.given.get("")
    if top is not None and "district" not in top:
        from capacity.notes import note

        note(
            f"{scenario.files[-1]}: district is not set: the bundled example county is used "
            "(set district: to a district folder or .xlsx workbook, or to example to say so)"
        )
    took: list[str] = []

    def fitted(obj, section: str):
        keep = set(scenario.given.get(section, ()))
        changes = {k: v for k, v in system_defaults(grades, section).items() if k not in keep}
        took.extend(f"{section}.{k}" for k in changes)
        for key in PER_STAGE_KEYS.get(section, ()):
            if key in keep:
                filled, added = fill_stages(getattr(obj, key), stage_defaults(type(obj), grades, key), grades)
                if added:
                    changes[key] = filled
                    took.extend(f"{section}.{key}.{k}" for k in added)
        return obj.with_(**changes) if changes else obj

    standards = fitted(scenario.standards, "standards")
    projection = fitted(scenario.projection, "projection")
    gap = fitted(scenario.gap, "gap").with_(standards=standards)
    plan = fitted(scenario.plan, "plan").with_(standards=standards)
    report = fitted(scenario.report, "report")
    problems: list[str] = []
    for obj, cls in ((projection, ProjectionSettings), (gap, GapSettings), (plan, PlanSettings)):
        try:
            fit_to_system(obj, cls, grades)
        except ScenarioError as e:
            problems += [ln for ln in str(e).splitlines()[1:] if ln not in problems]
    if problems:
        where = " and ".join(scenario.files) or scenario.name
        raise ScenarioError(
            f"{where}: the scenario does not fit the district's {grades.name} grade system "
            f"(district.grade_system; stages {', '.join(grades.stage_names)}):\n" + "\n".join(problems)
        )
    if (standards, projection, gap, plan, report) == (
        scenario.standards,
        scenario.projection,
        scenario.gap,
        scenario.plan,
        scenario.report,
    ):
        return scenario
    from capacity.notes import note

    note(
        f"district.grade_system {grades.name}: settings the scenario does not give take the {grades.name} defaults "
        f"(docs/data-format.md): {', '.join(took)}"
    )
    resolved = dict(scenario.resolved)
    resolved.update(
        {
            "standards": standards.as_dict(),
            "projection": projection.as_dict(),
            "gap": {k: v for k, v in gap.as_dict().items() if k != "standards"},
            "plan": {k: v for k, v in plan.as_dict().items() if k != "standards"},
            "report": report.as_dict(),
        }
    )
    return replace(scenario, projection=projection, gap=gap, plan=plan, report=report, resolved=json.loads(canonical_json(resolved)))


UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")  # a path separator or a control character


def name_problems(name: object) -> list[str]:
    """Why ``name`` cannot name an output folder (runs/<name>), or nothing."""
    if not isinstance(name, str):
        return [f"name: found {name!r}; expected text"]
    if not name.strip() or name.strip(". ") == "":
        return [f"name: found {name!r}; expected a folder name with letters or digits (it names runs/<name>)"]
    if UNSAFE_NAME.search(name) or name != name.strip() or name.endswith("."):
        return [
            f"name: found {name!r}; expected a safe folder name without / \\ or control characters "
            "or leading/trailing spaces (it names runs/<name>)"
        ]
    if len(name.encode()) > 150:
        return [f"name: found a name of {len(name.encode())} bytes; expected at most 150 (it names runs/<name>)"]
    return []


def load_scenario(path: str | Path, overrides: tuple[str, ...] = ()) -> Scenario:
    """Read, merge, check and resolve one scenario file (without its sweep)."""
    p = Path(path)
    data, where, files = load_chain(p)
    check_groups(data, where, files, p.stem, overrides)
    return resolve(data, where, files, p.stem, overrides)


def check_groups(data: dict, where: dict, files: tuple[str, ...], stem: str, applied: tuple[str, ...]) -> None:
    """Check every override group the run does not apply, each on its own over the file's settings, so that a
    misspelt key in a group is reported when the file is read, not only on the day the group is applied."""
    groups = data.get("overrides") or {}
    problems = []
    for g in sorted(groups) if isinstance(groups, dict) else ():
        if g in applied:
            continue
        try:
            resolve(data, where, files, stem, (g,))
        except ScenarioError as e:
            problems.append(f"override group '{g}' (not applied in this run): {e}")
    if problems:
        raise ScenarioError("\n".join(problems))


def expand_sweep(path: str | Path, overrides: tuple[str, ...] = ()) -> list[Scenario]:
    """The scenario, or one scenario per combination of its ``sweep`` values."""
    p = Path(path)
    data, where, files = load_chain(p)
    check_groups(data, where, files, p.stem, overrides)
    sweep = data.get("sweep") or {}
    if not isinstance(sweep, dict) or not sweep:
        return [resolve(data, where, files, p.stem, overrides)]
    keys = list(sweep)
    for k in keys:
        parts = str(k).split(".")
        if len(parts) != 2 or parts[0] not in SECTIONS:
            raise ScenarioError(
                f"{_place(where, ('sweep', k))}: sweep key '{k}': expected 'section.key' with section projection, gap or plan"
            )
        if parts[1] not in {f.name for f in fields(SECTIONS[parts[0]])}:
            raise _unknown(parts[1], [f.name for f in fields(SECTIONS[parts[0]])], ("sweep", k), where)
        if not isinstance(sweep[k], list) or not sweep[k]:
            raise ScenarioError(f"{_place(where, ('sweep', k))}: sweep.{k}: expected a non-empty list of values")
    out = []
    base_name = data.get("name", p.stem)
    for combo in itertools.product(*(sweep[k] for k in keys)):
        d = copy.deepcopy(data)
        label = []
        for k, v in zip(keys, combo, strict=True):
            sec, key = k.split(".")
            d.setdefault(sec, {})[key] = v
            label.append(f"{key}={v}")
        d["name"] = f"{base_name}[{','.join(label)}]"
        sc = resolve(d, where, files, p.stem, overrides)
        out.append(Scenario(**{**sc.__dict__, "sweep_values": dict(zip(keys, combo, strict=True))}))
    return out


# --- reference docs -----------------------------------------------------------------------------


def _field_docs(cls: type) -> dict[str, str]:
    doc = cls.__doc__ or ""
    out: dict[str, str] = {}
    cur: list[str] = []
    names: list[str] = []
    for line in doc.splitlines():
        m = re.match(r"^    ([a-z_][a-z_0-9, ]*) : (.*)$", line)
        if m:
            for n in names:
                out[n] = " ".join(cur).strip()
            names = [x.strip() for x in m.group(1).split(",")]
            cur = []
        elif names and line.startswith("        "):
            cur.append(line.strip())
    for n in names:
        out[n] = " ".join(cur).strip()
    return out


def scenario_reference_markdown() -> str:
    """docs/scenario-reference.md, generated from the settings dataclasses."""
    out = [
        "# Scenario file reference",
        "",
        "<!-- Generated by `python -m capacity.scenario > docs/scenario-reference.md` from the settings classes; do not edit by hand. -->",
        "",
        "A scenario is a YAML mapping. Unknown keys, wrong types and out-of-range values are errors that name the file,",
        "the key path and the line. `extends: base.yaml` deep-merges a base file (mappings merge key by key; lists",
        "and values are replaced). `overrides:` holds named groups applied with `--override a,b`; two groups that set",
        "the same key are an error. `sweep:` maps 'section.key' to a list of values; `capacity sweep` runs their",
        "product. YAML is read with a safe loader (no object construction).",
        "",
        "## Top level",
        "",
        "| key | default | meaning |",
        "|---|---|---|",
    ]
    for k, doc in TOP_KEYS.items():
        out.append(f"| `{k}` | {json.dumps(TOP_DEFAULTS[k]) if k in TOP_DEFAULTS else '-'} | {doc} |")
    for sec, cls in SECTIONS.items():
        docs = _field_docs(cls)
        hints = typing.get_type_hints(cls)
        out += ["", f"## `{sec}`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for f in fields(cls):
            if (sec == "projection" and f.name == "horizon") or f.name == "standards":
                continue
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            typ = str(hints[f.name]).replace("typing.", "").replace("|", "or").replace("<class '", "").replace("'>", "")
            out.append(f"| `{f.name}` | {typ} | `{canonical_json(default)}` | {docs.get(f.name, '').replace('|', '/')} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(scenario_reference_markdown(), end="")
