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
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import yaml

from capacity.errors import ScenarioError
from capacity.gap.settings import GapSettings
from capacity.plan.settings import PlanSettings
from capacity.projection.settings import ProjectionSettings
from capacity.standards import MOVED_TO_STANDARDS, Standards

SECTIONS: dict[str, type] = {"standards": Standards, "projection": ProjectionSettings, "gap": GapSettings, "plan": PlanSettings}
TOP_KEYS: dict[str, str] = {
    "name": "short name of the scenario (default: the file name)",
    "description": "one or two sentences for the report",
    "extends": "a scenario file (relative to this one) whose settings this one overrides",
    "district": "'example' (the bundled county) or a district folder / .xlsx workbook (relative to this file)",
    "horizon": "years projected and planned (1-20)",
    "run_plan": "whether `capacity run` solves the plan (false: projection and gap only)",
    "standards": "class sizes, classroom cost and school size caps, read by the gap and the plan (see below)",
    "projection": "projection settings (see below)",
    "gap": "seat-gap report settings (see below)",
    "plan": "plan settings (see below)",
    "overrides": "named groups of settings that `--override NAME,...` applies on top",
    "sweep": "'section.key': [values ...]; the product of all lists becomes one scenario each",
}
TOP_DEFAULTS: dict[str, object] = {"district": "example", "horizon": 10, "run_plan": True}


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

    @property
    def standards(self) -> Standards:
        """Class sizes, classroom cost and school size caps (the one home the gap and plan read)."""
        return self.plan.standards

    @property
    def district_path(self) -> str | None:
        """Path of the district, or None for the bundled example."""
        return None if self.district == "example" else self.district

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved settings (canonical JSON; the name is not a setting)."""
        return hashlib.sha256(canonical_json({k: v for k, v in self.resolved.items() if k != "name"}).encode()).hexdigest()


def canonical_json(obj: object) -> str:
    """JSON with sorted keys and no spaces, tuples as lists: equal settings give equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=list)


# --- reading YAML with line numbers -----------------------------------------------------------


def read_yaml(path: Path) -> tuple[dict, dict[tuple, int]]:
    """Safe-load a YAML mapping and the line of every key path (1-based)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{path}{line}: not valid YAML ({e.problem})") from None
    except yaml.YAMLError as e:
        raise ScenarioError(f"{path}: not valid YAML ({e})") from None
    if data is None:
        data, node = {}, None
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
        bdata, bwhere, bfiles = load_chain(bpath, (*stack, path))
        bdata.pop("name", None)
        merged = deep_merge(bdata, data)
        where = {**bwhere, **where}
        files = bfiles + files
        data = merged
    if "district" in data and isinstance(data["district"], str) and data["district"] != "example" and ("district",) in lines:
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
            hint = f" (YAML reads {value} as text: write it with a decimal point, e.g. {value.replace('e', '.0e').replace('E', '.0E') if '.' not in value else value}, or as a plain number)"
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
    for k, v in values.items():
        if k not in names:
            raise _unknown(k, names, (section, k), where)
        kwargs[k] = check_type(v, hints[k], (section, k), where)
    try:
        return cls(**kwargs)
    except ScenarioError as e:
        m = re.search(rf"{section}\.([A-Za-z_]+)", str(e))
        place = _place(where, (section, m.group(1))) if m else _place(where, (section,))
        raise ScenarioError(f"{place}: {e}") from None


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
        for kp in _key_paths(grp):
            if kp in set_by:
                raise ScenarioError(f"override groups '{set_by[kp]}' and '{g}' both set {'.'.join(map(str, kp))}; apply one of them")
            set_by[kp] = g
        data = deep_merge(data, grp)
    for k in data:
        if k not in TOP_KEYS:
            raise _unknown(k, TOP_KEYS, (k,), where)
    top = {**TOP_DEFAULTS, **{k: v for k, v in data.items() if k in TOP_DEFAULTS}}
    horizon = check_type(top["horizon"], int, ("horizon",), where)
    if not 1 <= horizon <= 20:
        raise ScenarioError(f"{_place(where, ('horizon',))}: horizon: found {horizon}; expected 1 to 20 years")
    district = check_type(top["district"], str, ("district",), where)
    run_plan = check_type(top["run_plan"], bool, ("run_plan",), where)
    proj_values = dict(data.get("projection", {}) or {})
    if "horizon" in proj_values:
        raise ScenarioError(
            f"{_place(where, ('projection', 'horizon'))}: set the horizon at the top level (horizon: N), not under projection"
        )
    projection = build_section(ProjectionSettings, {**proj_values, "horizon": horizon}, "projection", where)
    standards = build_section(Standards, data.get("standards", {}) or {}, "standards", where)
    for sec in ("gap", "plan"):
        for k in (*MOVED_TO_STANDARDS, "standards"):
            if isinstance(data.get(sec), dict) and k in data[sec]:
                key = f"standards.{k}" if k != "standards" else "the top-level standards section"
                raise ScenarioError(
                    f"{_place(where, (sec, k))}: {sec}.{k}: this figure has one home, read by both the gap and the plan; "
                    f"did you mean {key}? (move it there)"
                )
    gap = build_section(GapSettings, data.get("gap", {}) or {}, "gap", where).with_(standards=standards)
    plan = build_section(PlanSettings, data.get("plan", {}) or {}, "plan", where).with_(standards=standards)
    nm = data.get("name", name)
    if not isinstance(nm, str):
        raise ScenarioError(f"{_place(where, ('name',))}: name: found {nm!r}; expected text")
    resolved = {
        "name": nm,
        "district": district,
        "horizon": horizon,
        "run_plan": run_plan,
        "standards": standards.as_dict(),
        "projection": projection.as_dict(),
        "gap": {k: v for k, v in gap.as_dict().items() if k != "standards"},
        "plan": {k: v for k, v in plan.as_dict().items() if k != "standards"},
    }
    resolved = json.loads(canonical_json(resolved))
    return Scenario(
        nm, str(data.get("description", "")), files, district, horizon, run_plan, projection, gap, plan, tuple(overrides), {}, resolved
    )


def load_scenario(path: str | Path, overrides: tuple[str, ...] = ()) -> Scenario:
    """Read, merge, check and resolve one scenario file (without its sweep)."""
    p = Path(path)
    data, where, files = load_chain(p)
    return resolve(data, where, files, p.stem, overrides)


def expand_sweep(path: str | Path, overrides: tuple[str, ...] = ()) -> list[Scenario]:
    """The scenario, or one scenario per combination of its ``sweep`` values."""
    p = Path(path)
    data, where, files = load_chain(p)
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
