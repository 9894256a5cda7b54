"""Checks every FHIR resource in the given JSON files with fhir.resources 5.1.1 (PyPI), the
FHIR R4 (4.0.1) classes generated from HL7's StructureDefinitions: required elements, lists
against single values, element types and unknown elements — what HL7's JSON Schema
(validate.mjs) leaves out.

The walk is validate.mjs's: each outermost object with a `resourceType`. One JSON line per
resource: {"file", "path", "resourceType", "errors"}. Exit status 1 if any resource is invalid,
2 if a file cannot be read or fhir.resources is not the R4 one.
"""

import importlib
import json
import logging
import sys

import fhir.resources

if fhir.resources.__fhir_version__ != "4.0.1":
    sys.exit(f"fhir.resources is for FHIR {fhir.resources.__fhir_version__}, not R4 (4.0.1)")


class Collect(logging.Handler):
    """fhir.resources logs (rather than raises) a primitive it cannot read, such as a date."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


collected = Collect()
logging.getLogger().addHandler(collected)
logging.getLogger().setLevel(logging.WARNING)


def resources(value, path):
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from resources(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        if isinstance(value.get("resourceType"), str):
            yield path or "$", value
            return
        for k, v in value.items():
            yield from resources(v, f"{path}.{k}" if path else k)


def check(resource):
    kind = resource["resourceType"]
    try:
        module = importlib.import_module(f"fhir.resources.{kind.lower()}")
        cls = getattr(module, kind)
    except (ImportError, AttributeError):
        return [f"unknown resourceType {kind!r}"]
    collected.messages.clear()
    try:
        cls(resource, strict=True)
    except Exception as e:  # FHIRValidationError, with every problem in its text
        return [line.strip() for line in str(e).splitlines() if line.strip()] + collected.messages
    return list(collected.messages)


invalid = 0
for name in sys.argv[1:]:
    try:
        with open(name, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{name}: {e}", file=sys.stderr)
        sys.exit(2)
    for path, resource in resources(doc, ""):
        errors = check(resource)
        invalid += bool(errors)
        print(json.dumps({"file": name, "path": path, "resourceType": resource["resourceType"], "errors": errors[:10]}, ensure_ascii=False))
sys.exit(1 if invalid else 0)
