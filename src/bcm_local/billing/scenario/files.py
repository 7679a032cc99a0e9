"""Reading scenario files: `scenario_of` (the file's scenario, cached until it changes, or
the default) and `scenario_problem`, a bad file's problem as one line that names the
file's line, for `bcm-local serve` (which refuses to start on a bad scenario) and
`bcm-local status` (through the summary)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from bcm_local.billing.scenario.definition import Scenario, ScenarioError, from_dict, load

_CACHE: dict[tuple[str, float], Scenario] = {}
_LOCK = threading.Lock()


def scenario_of(path: str) -> Scenario:
    """The scenario file's content (cached until the file changes), or the default."""
    key = (path, Path(path).stat().st_mtime) if path else ("", 0.0)
    with _LOCK:
        if key not in _CACHE:
            if path:
                _CACHE[key] = load(path)
            else:
                from bcm_local.billing.scenario.default import DEFAULT_SCENARIO

                _CACHE[key] = from_dict(DEFAULT_SCENARIO)
        return _CACHE[key]


def scenario_problem(path: str) -> str | None:
    """Why the scenario file cannot be used, as one line naming the file's line; None if
    it is fine (or empty: the built-in scenario)."""
    if not path:
        return None
    try:
        scenario_of(path)
    except OSError as err:
        return f"cannot read scenario file {path}: {err.strerror or err}"
    except ScenarioError as err:
        line, reason = _locate(path, str(err))
        where = f"{path}, line {line}" if line else path
        return f"bad scenario file {where}: {reason}"
    return None


def _locate(path: str, message: str) -> tuple[int | None, str]:
    """(line, reason) of a scenario error: parse errors carry their position; validation
    errors name a field (`scenario.resources[2].kind`) that is looked up in the file."""
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    try:
        if path.endswith(".json"):
            json.loads(text)
        root = yaml.compose(text)
    except json.JSONDecodeError as err:
        return err.lineno, err.msg
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        reason = " ".join(str(p) for p in (err.context, err.problem) if p)
        return (mark.line + 1 if mark else None), reason
    except yaml.YAMLError as err:
        return None, str(err)
    field, _, reason = message.partition(": ")
    if not field.startswith("scenario") or root is None:
        return None, message
    node: Any = root
    for step in re.findall(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]", field.removeprefix("scenario")):
        child = _child(node, step[0], int(step[1]) if step[1] else None)
        if child is None:  # a missing member: point at the mapping that lacks it
            break
        node = child
    return node.start_mark.line + 1, message


def _child(node: Any, key: str, index: int | None) -> Any:
    import yaml

    if index is not None and isinstance(node, yaml.SequenceNode):
        return node.value[index] if index < len(node.value) else None
    if key and isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None
