"""The atom-type registry. Every module in this package that defines an ``AtomType`` subclass
with a ``key`` is registered when the package is imported: adding a type is adding a module."""

import importlib
import pkgutil

from .base import (
    AtomSnapshot,
    AtomType,
    AtomValidationError,
    GradeResult,
    OptionData,
    ResponseValidationError,
)

_REGISTRY: dict[str, AtomType] = {}


def _discover() -> None:
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, AtomType)
                and value is not AtomType
                and value.__module__ == module.__name__
                and getattr(value, "key", None)
            ):
                if value.key in _REGISTRY:
                    raise RuntimeError(f"atom type {value.key!r} is registered twice")
                _REGISTRY[value.key] = value()


def get_atom_type(key: str) -> AtomType:
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise AtomValidationError(
            {"atom_type": [f"Unknown atom type {key!r}. Known types: {known}."]}
        ) from None


def atom_type_keys() -> list[str]:
    return sorted(_REGISTRY)


def atom_type_choices() -> list[tuple[str, str]]:
    return [(key, _REGISTRY[key].label) for key in atom_type_keys()]


_discover()

__all__ = [
    "AtomSnapshot",
    "AtomType",
    "AtomValidationError",
    "GradeResult",
    "OptionData",
    "ResponseValidationError",
    "atom_type_choices",
    "atom_type_keys",
    "get_atom_type",
]
