"""Validates SARIF files against the official SARIF 2.1.0 JSON schema.

usage: validate.py SCHEMA FILE...

Draft 2020-12 with format checking (`uri`, `uri-reference`, `date-time` need the
`jsonschema[format-nongpl]` extras; without them those formats would pass unchecked, so their
absence is an error here). Exits 1 and lists the errors when a file does not validate.
"""

import json
import sys

import jsonschema


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = cls.FORMAT_CHECKER
    missing = {"uri", "uri-reference", "date-time"} - set(checker.checkers)
    if missing:
        print(f"format checks unavailable: {sorted(missing)}; pip install 'jsonschema[format-nongpl]'", file=sys.stderr)
        return 2
    validator = cls(schema, format_checker=checker)
    bad = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        results = sum(len(r.get("results", [])) for r in doc.get("runs", []))
        if errors:
            bad += 1
            print(f"{path}: {len(errors)} schema error(s)")
            for e in errors[:50]:
                where = "/".join(str(p) for p in e.absolute_path)
                print(f"  at /{where}: {e.message[:300]}")
        else:
            print(f"{path}: valid SARIF 2.1.0 ({results} results)")
    print(f"{len(sys.argv) - 2 - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
