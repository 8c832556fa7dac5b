"""Build argparse options from config dataclasses.

Configs are dataclasses whose fields carry ``metadata={"help": ...}`` (and optionally
``"flag"`` for the option name and ``"choices"``); validation lives in their ``__post_init__``. The
CLI never sets attributes from ``**kwargs``: it constructs the dataclass from parsed arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")


def seed_value(text: str) -> int:
    """An argparse ``type`` for seeds: an integer >= 0 (numpy's generators refuse others).

    Raises:
        argparse.ArgumentTypeError: Not such an integer (argparse names the option and exits 2).
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def option_name(field: dataclasses.Field) -> str:
    """The ``--option-name`` of a dataclass field."""
    return field.metadata.get("flag", "--" + field.name.replace("_", "-"))


def add_dataclass_args(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    exclude: tuple[str, ...] = (),
) -> list[argparse.Action]:
    """Add one option per field of ``cls`` to ``parser``.

    Args:
        parser: The parser or argument group to extend.
        cls: A dataclass type; field defaults become option defaults.
        exclude: Field names to leave out (set by the command itself).

    Returns:
        The options added, in field order.
    """
    hints = typing.get_type_hints(cls)
    actions: list[argparse.Action] = []
    for field in dataclasses.fields(cls):
        if field.name in exclude or not field.init:
            continue
        tp, _optional = _unwrap_optional(hints[field.name])
        kwargs: dict[str, Any] = {"dest": field.name, "help": field.metadata.get("help", "")}
        if field.default is not dataclasses.MISSING:
            kwargs["default"] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            kwargs["default"] = field.default_factory()
        else:
            kwargs["required"] = True
        if (
            "default" in kwargs
            and kwargs["default"] is not None
            and kwargs["help"]
            and "(default" not in kwargs["help"]  # the help names it already
        ):
            kwargs["help"] += " (default: %(default)s)"
        origin = get_origin(tp)
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif origin is Literal:
            kwargs["choices"] = list(get_args(tp))
            kwargs["type"] = type(get_args(tp)[0])
        elif origin in (tuple, list):
            item = get_args(tp)[0] if get_args(tp) else str
            kwargs["nargs"] = "*"
            kwargs["action"] = "extend"  # a repeated option adds to the list
            kwargs["type"] = item
            if "default" in kwargs:
                # argparse would extend the default itself: leave it out (None) and let
                # dataclass_from_args fall back to the field's default when nothing was given.
                shown = " ".join(map(str, kwargs["default"] or ())) or "none"
                kwargs["help"] = kwargs["help"].replace("%(default)s", shown.replace("%", "%%"))
                kwargs["default"] = None
        elif tp is int and field.name == "seed":
            kwargs["type"] = seed_value  # numpy refuses negative seeds, deep inside a run
        elif tp in (int, float, str, Path):
            kwargs["type"] = tp
        else:
            kwargs["type"] = str
        if "choices" in field.metadata:
            kwargs["choices"] = field.metadata["choices"]
        actions.append(parser.add_argument(option_name(field), **kwargs))
    return actions


@contextlib.contextmanager
def config_errors() -> Iterator[None]:
    """Turn the ``ValueError``/``TypeError`` of a settings check inside the block into a
    :class:`~s2b_env.errors.ConfigError` (a user's bad option, exit 2, not a bug)."""
    from s2b_env.errors import ConfigError, S2BError

    try:
        yield
    except S2BError:
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc)) from exc


def dataclass_from_args(cls: type[T], args: argparse.Namespace, **overrides: Any) -> T:
    """Construct ``cls`` from parsed arguments (validation runs in its ``__post_init__``).

    Raises:
        ConfigError: The dataclass refused a value (its ``ValueError`` or ``TypeError``, which
            names the option): bad options are the user's to fix, not a bug.
    """
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init:
            continue
        if field.name in overrides:
            values[field.name] = overrides[field.name]
        elif hasattr(args, field.name):
            value = getattr(args, field.name)
            if value is None:  # not given (list options) or None by default: the field's default
                continue
            if isinstance(value, list):
                value = tuple(value)
            values[field.name] = value
    with config_errors():
        return cls(**values)
