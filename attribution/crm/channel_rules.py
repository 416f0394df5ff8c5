"""Channel rules: a TOML file of first-match-wins rules that map a touch's UTM parameters,
referrer, CRM campaign type, source properties and type to a channel (defaults modelled on
GA4's default channel grouping plus B2B channels: default_channel_rules.toml)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from attribution.ingest import InputFileError

__all__ = [
    "DEFAULT_RULES_FILE",
    "RULE_FIELDS",
    "UNCLASSIFIED",
    "ChannelRule",
    "ChannelRules",
    "ChannelRulesError",
    "check_patterns",
    "load_channel_rules",
    "load_checked_rules",
    "normalized_fields_sql",
]

DEFAULT_RULES_FILE = Path(__file__).with_name("default_channel_rules.toml")
# what a rule can test; a touch row has each as text (null: missing, tested as "")
RULE_FIELDS: tuple[str, ...] = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer_domain",
    "campaign_type",
    "crm_source",
    "self_reported",
    "touch_type",
    "source_object",
    "channel_label",
)
# the channel of a touch no rule matches (keyed `unclassified` in the marts)
UNCLASSIFIED = "(unclassified)"


class ChannelRulesError(InputFileError, ValueError):
    """A rules file that cannot be used (the message names the file, the rule and the key): an
    input problem like an unreadable file (exit 65, a Dagster Failure)."""


@dataclass(frozen=True)
class ChannelRule:
    """One rule: the channel, and per field the values it equals or the pattern it matches."""

    channel: str
    values: tuple[tuple[str, tuple[str, ...]], ...]  # field -> accepted values (lower case)
    patterns: tuple[tuple[str, str], ...]  # field -> full-match pattern (case-insensitive)
    name: str

    def condition(self) -> str:
        """This rule as a SQL condition over the normalized field columns (literals quoted)."""
        parts = [f"{field} in ({', '.join(_quote(v) for v in values)})" for field, values in self.values]
        parts += [
            f"regexp_full_match({field}, {_quote('(?i)' + pattern)})" for field, pattern in self.patterns
        ]
        return " and ".join(parts) or "true"


@dataclass(frozen=True)
class ChannelRules:
    """An ordered rule set (first match wins) and where it came from."""

    rules: tuple[ChannelRule, ...]
    file: str

    def channel_sql(self) -> str:
        """A SQL expression of the channel (UNCLASSIFIED when no rule matches) over columns named
        as RULE_FIELDS, normalized by `normalized_fields_sql`."""
        cases = " ".join(f"when {r.condition()} then {_quote(r.channel)}" for r in self.rules)
        return f"case {cases} else {_quote(UNCLASSIFIED)} end" if cases else _quote(UNCLASSIFIED)

    def rule_sql(self) -> str:
        """A SQL expression naming the rule that matched (null when none did)."""
        cases = " ".join(f"when {r.condition()} then {_quote(r.name)}" for r in self.rules)
        return f"case {cases} end" if cases else "null"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def normalized_fields_sql(available: tuple[str, ...]) -> str:
    """The select list that normalizes the rule fields of a relation (lower case, trimmed, ''
    when missing); a field the relation lacks is ''."""
    return ", ".join(
        f"coalesce(lower(trim({f})), '') as {f}" if f in available else f"'' as {f}" for f in RULE_FIELDS
    )


def _rule(entry: Any, index: int, where: str) -> ChannelRule:
    label = f"{where}: rule {index}"
    if not isinstance(entry, dict):
        raise ChannelRulesError(f"{label}: a rule is a table ([[rule]]) with a channel and conditions")
    channel = entry.get("channel")
    if not isinstance(channel, str) or not channel.strip():
        raise ChannelRulesError(f'{label}: needs channel = "..." (the channel it assigns)')
    values: list[tuple[str, tuple[str, ...]]] = []
    patterns: list[tuple[str, str]] = []
    for key, value in entry.items():
        if key in ("channel", "name"):
            continue
        field, is_regex = (key[: -len("_regex")], True) if key.endswith("_regex") else (key, False)
        if field not in RULE_FIELDS:
            raise ChannelRulesError(
                f"{label}: unknown key {key!r}; conditions are one of {', '.join(RULE_FIELDS)} "
                "(a list of values) or <field>_regex (a pattern)"
            )
        if is_regex:
            if not isinstance(value, str):
                raise ChannelRulesError(f"{label}: {key} must be one pattern (a string)")
            try:
                re.compile(value)
            except re.error as exc:
                raise ChannelRulesError(f"{label}: {key} is not a regular expression: {exc}") from exc
            patterns.append((field, value))
        else:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                raise ChannelRulesError(f"{label}: {key} must be a value or a list of values (strings)")
            values.append((field, tuple(v.strip().lower() for v in items)))
    name = str(entry.get("name") or f"{Path(where).name}#{index}")
    return ChannelRule(channel.strip(), tuple(values), tuple(patterns), name)


def load_channel_rules(path: str | Path | None = None) -> ChannelRules:
    """Read a rules file (None: the default rules); `include_defaults = true` in it appends the
    default rules after its own. A clear error naming the rule for anything unusable."""
    file = Path(path) if path else DEFAULT_RULES_FILE
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ChannelRulesError(f"{file}: channel rules file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ChannelRulesError(f"{file}: not a TOML file: {exc}") from exc
    unknown = set(data) - {"rule", "include_defaults"}
    if unknown:
        raise ChannelRulesError(f"{file}: unknown key(s) {', '.join(sorted(unknown))}; use [[rule]] tables")
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise ChannelRulesError(f"{file}: rules are [[rule]] tables")
    rules = tuple(_rule(entry, i + 1, str(file)) for i, entry in enumerate(entries))
    if data.get("include_defaults") and path:
        rules = (*rules, *load_channel_rules(None).rules)
    return ChannelRules(rules, str(file))


def load_checked_rules(conn: duckdb.DuckDBPyConnection, path: str | Path | None = None) -> ChannelRules:
    """`load_channel_rules`, its patterns then checked by DuckDB's RE2 (check_patterns)."""
    rules = load_channel_rules(path)
    check_patterns(conn, rules)
    return rules


def check_patterns(conn: duckdb.DuckDBPyConnection, rules: ChannelRules) -> None:
    """Fail naming the rule when DuckDB's regular expressions (RE2) refuse a pattern Python's
    accepted (look-arounds, back-references)."""
    for rule in rules.rules:
        for field, pattern in rule.patterns:
            try:
                conn.sql("select regexp_full_match('', ?)", params=["(?i)" + pattern]).fetchall()
            except duckdb.Error as exc:
                raise ChannelRulesError(
                    f"{rules.file}: rule {rule.name}: {field}_regex {pattern!r} is not an RE2 pattern "
                    f"(no look-arounds or back-references): {str(exc).splitlines()[0]}"
                ) from exc
