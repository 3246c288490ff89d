"""Checks docs/api/openapi.json with openapi-spec-validator, then checks recorded answers of a
running `mes serve` against it: each answer's status must be documented for its route, and its
body must match the documented schema (JSON Schema 2020-12, jsonschema).

    python check-openapi.py SPEC CALLS

CALLS has one answer per line: METHOD PATH_TEMPLATE STATUS BODY_FILE, e.g.
    GET /api/v1/work-orders/{number} 200 /tmp/x/api-3.json
Exits 1 naming every answer that does not match, 0 when all do."""
import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

spec_path, calls_path = sys.argv[1], sys.argv[2]
spec = json.load(open(spec_path))
validate(spec)
failures = 0
checked = 0
for line in open(calls_path):
    if not line.strip():
        continue
    method, template, status, body_file = line.split()
    checked += 1
    operation = spec["paths"].get(template, {}).get(method.lower())
    if operation is None:
        print(f"FAIL {method} {template}: the route is not in the spec")
        failures += 1
        continue
    response = operation["responses"].get(status)
    if response is None:
        print(f"FAIL {method} {template}: status {status} is not documented")
        failures += 1
        continue
    body = open(body_file).read()
    content = response.get("content", {}).get("application/json")
    if content is None:
        continue
    try:
        document = json.loads(body)
    except ValueError as error:
        print(f"FAIL {method} {template} {status}: not JSON ({error}): {body[:200]}")
        failures += 1
        continue
    schema = dict(content["schema"])
    schema["components"] = spec["components"]
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    for error in errors:
        print(f"FAIL {method} {template} {status}: {'/'.join(map(str, error.path)) or 'body'}: {error.message}")
    failures += 1 if errors else 0
print(f"openapi: {checked} answers checked against {spec_path}, {failures} failed")
sys.exit(1 if failures or checked == 0 else 0)
