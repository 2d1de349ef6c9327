"""Reading one table of the configuration: typed getters that name the key on error.

Every value is checked as it is read, and every key a table holds must have
been read (`finish`): an unknown key or a wrong type raises `ConfigError` naming
the key's path (`backends[1].max_concurrency`), never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ConfigError(ValueError):
    """A configuration problem, with the key's path and where it came from."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}" if key else f"{where}{problem}")


class TableReader:
    """Reads one table, remembering the key path for error messages."""

    def __init__(self, source: str, path: str, table: Any) -> None:
        self.source = source
        self.path = path
        if not isinstance(table, Mapping):
            raise ConfigError(source, path, f"expected a table, got {type_name(table)}")
        self.table: Mapping[str, Any] = table
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _get(self, name: str) -> Any:
        self.seen.add(name)
        return self.table.get(name)

    def str_(self, name: str, default: str | None = None) -> str:
        value = self._get(name)
        if value is None:
            if default is None:
                raise ConfigError(self.source, self.key(name), "is required")
            return default
        if not isinstance(value, str):
            raise ConfigError(
                self.source, self.key(name), f"expected a string, got {type_name(value)}"
            )
        return value

    def int_(self, name: str, default: int, minimum: int) -> int:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                self.source, self.key(name), f"expected an integer, got {type_name(value)}"
            )
        if value < minimum:
            raise ConfigError(
                self.source, self.key(name), f"must be at least {minimum}, got {value}"
            )
        return value

    def float_(self, name: str, default: float, minimum: float, exclusive: bool = False) -> float:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                self.source, self.key(name), f"expected a number, got {type_name(value)}"
            )
        if value < minimum or (exclusive and value == minimum):
            bound = "greater than" if exclusive else "at least"
            raise ConfigError(
                self.source, self.key(name), f"must be {bound} {minimum}, got {value}"
            )
        return float(value)

    def bool_(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(
                self.source, self.key(name), f"expected true or false, got {type_name(value)}"
            )
        return value

    def str_list(self, name: str, default: Sequence[str]) -> tuple[str, ...]:
        value = self._get(name)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                self.source, self.key(name), f"expected a list of strings, got {type_name(value)}"
            )
        return tuple(value)

    def table_list(self, name: str) -> list[Any] | None:
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, list):
            raise ConfigError(
                self.source, self.key(name), f"expected an array of tables, got {type_name(value)}"
            )
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            known = ", ".join(sorted(self.seen))
            raise ConfigError(
                self.source, self.key(unknown[0]), f"unknown key (known keys here: {known})"
            )


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__
