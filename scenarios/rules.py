"""A scenario's rules as (key, text) pairs, for the manifest and for `portfolio compare`.

The key names what a rule applies to (so that two runs can be compared rule by
rule), the text says what it does. Rules on the same key are combined as the
loader applies them (factors multiply; a later value of the same key wins).
"""
from __future__ import annotations

from portfolio.months import format_month

from .settings import Settings

# Settings the plan or the simulation depends on (the run-time knobs -- time limit, workers, seed, iterations,
# engine -- are not rules; the manifest's optimizer and simulation sections record the ones actually used).
OPTIMIZE_KEYS = ("objective", "hard_deadlines", "duration_percentile", "funding")


def _factor(factor: float) -> str:
    change = round((factor - 1.0) * 100, 6)
    return f"×{factor:g} ({change:+g}%)".replace("-", "−")


def _years(rule: dict) -> str:
    first, last = rule.get("from"), rule.get("to")
    if first is None and last is None:
        return "all years"
    if first is None:
        return f"to {last}"
    if last is None:
        return f"from {first}"
    return f"{first}–{last}" if first != last else str(first)


def _funding(doc: dict, out: dict) -> None:
    factors: dict[str, float] = {}
    for rule in doc.get("funding", {}).get("scale", []):
        sources = rule.get("sources", [rule["source"]] if "source" in rule else [])
        key = f"funding scale: {', '.join(sorted(sources)) or 'every source'}, {_years(rule)}"
        factors[key] = factors.get(key, 1.0) * float(rule["factor"])
    out.update({k: _factor(f) for k, f in factors.items()})


def _durations(doc: dict, out: dict) -> None:
    factors: dict[str, float] = {}
    for rule in doc.get("durations", []):
        key = (f"durations: category {rule['category']}" if "category" in rule
               else f"durations: project {rule['project']}")
        factors[key] = factors.get(key, 1.0) * float(rule["factor"])
    out.update({k: _factor(f) for k, f in factors.items()})


def _risks(doc: dict, out: dict) -> None:
    for rid, change in doc.get("risk_changes", {}).items():
        parts = []
        if "probability" in change:
            parts.append(f"probability {change['probability']:g}")
        if "impact_factor" in change:
            parts.append(f"impact ×{change['impact_factor']:g}")
        out[f"risk change: {rid}"] = ", ".join(parts) or "no change"
    for item in doc.get("risks", []):
        affects = item.get("affects", [])
        affects = "; ".join(affects) if isinstance(affects, list) else str(affects)
        out[f"extra risk: {item.get('risk_id', '')}"] = (
            f"{item.get('name', '')}: probability {item.get('probability')}, delay {item.get('optimistic')}/"
            f"{item.get('most_likely')}/{item.get('pessimistic')} months, affects {affects}")


def describe_rules(doc: dict) -> tuple[tuple[str, str], ...]:
    """The rules of a checked scenario document (TOML parsed), in the order the loader applies them."""
    out: dict[str, str] = {}
    _funding(doc, out)
    _durations(doc, out)
    for pid, value in doc.get("priorities", {}).items():
        out[f"priority: {pid}"] = f"{value:g}"
    _risks(doc, out)
    for item in doc.get("forced_starts", []):
        out[f"forced start: {item['activity']}"] = str(item["start"])
    for item in doc.get("stoppages", []):
        categories = ", ".join(item.get("categories", [])) or "every category"
        key, months = f"stoppage from {item['start']}: {categories}", f"{item['months']} months"
        out[key] = f"{out[key]} + {months}" if key in out else months
    return tuple(out.items())


def sweep_rules(axes, factors) -> tuple[tuple[str, str], ...]:
    """The rules a sweep variant adds: each axis's factor on the caps it scales, keyed by the axis."""
    out = []
    for axis, factor in zip(axes, factors):
        years = _years({k: v for k, v in (("from", axis.first), ("to", axis.last)) if v is not None})
        out.append((f"sweep {axis.label}: funding scale: {', '.join(sorted(axis.sources)) or 'every source'}, "
                    f"{years}", _factor(factor)))
    return tuple(out)


def scenario_rules(settings: Settings) -> dict[str, str]:
    """What the manifest records as ``scenario_rules``: the dates, the optimizer's model settings, then the rules."""
    out = {"status date": format_month(settings.status_date), "default deadline": format_month(settings.deadline)}
    for key in OPTIMIZE_KEYS:
        value = getattr(settings.optimize, key)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        out[f"optimize {key}"] = "—" if value is None else text
    if not settings.simulate.funding:
        out["simulate funding"] = "false"
    out.update(dict(settings.rules))
    return out
