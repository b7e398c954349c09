#!/usr/bin/env python3
"""Validate input-event JSON files against the published schemas (schemas/events).

Prints one line per file: `<file> valid`, `<file> invalid`, or `<file> malformed`
(not UTF-8, not JSON, or not a JSON object: JSON Schema cannot judge those).
With --explain, where each invalid file first fails (field path and schema
keyword, never the value) goes to stderr.
Exits 0 when every file was judged, whatever the verdicts; 2 on bad usage;
3 when the Python `jsonschema` package is missing.

The documents are read as strictly as csworker's own parser reads them:
duplicate object keys, NaN/Infinity, unpaired surrogate escapes and nesting
deeper than 64 levels count as malformed, so a file means the same thing
to both.

Pattern semantics: the schemas use ECMA-262 regular expressions. Python's
`re` differs in one way that matters here: `$` also matches before a final
newline. The `pattern` keyword is therefore evaluated with a trailing `$`
read as end-of-string. Formats date, date-time and uuid are asserted.
"""
import argparse
import datetime
import json
import pathlib
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator, FormatChecker, ValidationError
    from referencing import Registry, Resource
except ImportError:
    sys.stderr.write("validate-json-schemas.py needs the Python package jsonschema (pip install jsonschema)\n")
    sys.exit(3)

MAX_DEPTH = 64
DEFAULT_SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas" / "events"


class Malformed(Exception):
    pass


def _reject_constant(name):
    raise Malformed(f"{name} is not JSON")


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Malformed("duplicate object key")
        obj[key] = value
    return obj


def _check_strings_and_depth(value, depth=0):
    if isinstance(value, (dict, list)):
        depth += 1
        if depth > MAX_DEPTH:
            raise Malformed(f"nesting deeper than {MAX_DEPTH}")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        for text in (key, item):
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise Malformed("unpaired surrogate escape")
        _check_strings_and_depth(item, depth)


def load_event(path):
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise Malformed(str(error))
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    _check_strings_and_depth(value)
    return value


_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(\.[0-9]+)?"
    r"(Z|[+-](?P<oh>[0-9]{2}):(?P<om>[0-9]{2}))\Z"
)


def _is_date(text):
    try:
        return re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) is not None and bool(datetime.date.fromisoformat(text))
    except ValueError:
        return False


def _is_date_time(text):
    match = _RFC3339.match(text)
    if not match or not _is_date(match["date"]):
        return False
    if int(match["h"]) > 23 or int(match["m"]) > 59 or int(match["s"]) > 59:
        return False
    return match["oh"] is None or (int(match["oh"]) <= 23 and int(match["om"]) <= 59)


def format_checker():
    checker = FormatChecker(["uuid"])  # the library's uuid check; date and date-time defined here, library-version independent
    checker.checks("date")(lambda value: not isinstance(value, str) or _is_date(value))
    checker.checks("date-time")(lambda value: not isinstance(value, str) or _is_date_time(value))
    return checker


_ECMA_PATTERNS = {}


def _ecma_pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    compiled = _ECMA_PATTERNS.get(pattern)
    if compiled is None:
        translated = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
        compiled = _ECMA_PATTERNS[pattern] = re.compile(translated)
    if not compiled.search(instance):
        yield ValidationError(f"does not match {pattern!r}")


EventValidator = jsonschema.validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


def build_validator(schema_dir):
    resources = []
    for path in sorted(schema_dir.glob("*.json")):
        schema = json.loads(path.read_text("utf-8"))
        Draft202012Validator.check_schema(schema)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    root = json.loads((schema_dir / "event.json").read_text("utf-8"))
    return EventValidator(root, registry=registry, format_checker=format_checker())


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=pathlib.Path, default=DEFAULT_SCHEMAS, help="directory holding event.json and the per-type schemas")
    parser.add_argument("--explain", action="store_true", help="print the first error of each invalid file to stderr")
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    args = parser.parse_args(argv)

    validator = build_validator(args.schemas)
    for path in args.files:
        try:
            event = load_event(path)
        except Malformed as error:
            print(f"{path} malformed", flush=True)
            if args.explain:
                sys.stderr.write(f"{path}: {error}\n")
            continue
        error = jsonschema.exceptions.best_match(validator.iter_errors(event))
        if error is None:
            print(f"{path} valid", flush=True)
        else:
            print(f"{path} invalid", flush=True)
            if args.explain:
                # The keyword that failed, not error.message: messages quote the value, which may be an SSN.
                location = ".".join(str(p) for p in error.absolute_path) or "(root)"
                sys.stderr.write(f"{path}: {location}: fails {error.validator}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
