"""Turns an atom type's pydantic model into the JSON schema django-jsonform draws a form from.

pydantic emits ``$defs``/``$ref`` and ``anyOf [X, null]`` for optional fields; the form
library wants plain nested schemas, so we inline references and unwrap optionals.
"""

from typing import Any

from pydantic import BaseModel

# Free-text fields that deserve a multi-line box rather than a one-line input.
LONG_TEXT_FIELDS = {"prompt", "text", "explanation", "statement", "front", "back", "feedback"}


def form_schema(model: type[BaseModel], title: str = "") -> dict:
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    simplified = _simplify(schema, definitions)
    simplified["title"] = title or simplified.get("title", "")
    return simplified


def _simplify(node: Any, definitions: dict) -> Any:
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    if "anyOf" in node:
        choices = [c for c in node["anyOf"] if c.get("type") != "null"]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if len(choices) == 1:
            node = {**_simplify(choices[0], definitions), **rest}
        else:
            # e.g. int | float: a number field accepts both.
            node = {"type": "number", **rest}
    result: dict = {}
    for key, value in node.items():
        if key == "properties":
            result["properties"] = {k: _field(k, v, definitions) for k, v in value.items()}
            result["keys"] = result["properties"]  # django-jsonform's name for properties
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            result[key] = _simplify(value, definitions)
        elif key == "description":
            result["help_text"] = value
        elif key == "default" and value is None:
            continue
        elif key == "format" and value == "uuid":
            continue  # a plain text box; the service checks the id exists
        else:
            result[key] = value
    if result.get("type") == "object" and "properties" in result:
        result.pop("properties")
    return result


def _field(name: str, node: dict, definitions: dict) -> dict:
    field = _simplify(node, definitions)
    if name in LONG_TEXT_FIELDS and field.get("type") == "string":
        field["widget"] = "textarea"
    return field


def has_fields(model: type[BaseModel]) -> bool:
    return bool(model.model_fields)
