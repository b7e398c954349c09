#!/usr/bin/env python3
"""Check schemas/asyncapi.yaml's structure and print the channels it declares.

Structure (AsyncAPI 3.0, the parts the document uses): `asyncapi: 3.0.0`,
`info`, channels with an `address` and `messages`, operations with an `action`
and a `channel` $ref whose messages are that channel's, every $ref resolving
(inside the document, or a file beside it), every JSON Schema payload a valid
draft 2020-12 schema whose `type` is the message's name, headers an object
schema, a Kafka key binding on every message.

On success prints one JSON object on stdout, the document as the code sees it:

    {"<address>": {"action": "receive"|"send", "messages": [names],
                   "headers": [names], "requiredHeaders": [names], "key": "<key title>"}}

Exits 0 when the structure holds, 1 with the problems on stderr otherwise,
3 when PyYAML or jsonschema is missing. AsyncAPIContractTests compares the
printed channels with the code.
"""

import json
import os
import re
import sys

try:
    import yaml
    from jsonschema import Draft202012Validator
except ImportError as error:
    print(f"check-asyncapi: {error}; run `pip install pyyaml jsonschema`", file=sys.stderr)
    sys.exit(3)

JSON_SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._-]+$")  # AsyncAPI 3 map keys
TOP_LEVEL = {"asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations", "components"}

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def pointer(document, ref):
    """The node `#/a/b` names in the document, or None."""
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def walk_refs(node, path):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield path, value
            else:
                yield from walk_refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_refs(value, f"{path}/{index}")


def resolve(document, node):
    """Follows a local {$ref: '#/...'} (the checks below report those that dangle)."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        node = pointer(document, node["$ref"])
    return node


def check(path):
    base = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    if not isinstance(document, dict):
        problem(path, "not a YAML mapping")
        return {}
    if document.get("asyncapi") != "3.0.0":
        problem(path, f"asyncapi must be '3.0.0', is {document.get('asyncapi')!r}")
    for key in set(document) - TOP_LEVEL:
        problem(path, f"unknown top-level field {key}")
    info = document.get("info") or {}
    for field in ("title", "version"):
        if not isinstance(info.get(field), str) or not info.get(field):
            problem("info", f"{field} must be a non-empty string")

    for where, ref in walk_refs(document, "#"):
        if not isinstance(ref, str):
            problem(where, "$ref is not a string")
        elif ref.startswith("#/"):
            if pointer(document, ref) is None:
                problem(where, f"$ref {ref} does not resolve")
        elif not os.path.isfile(os.path.join(base, ref.split("#")[0])):
            problem(where, f"$ref {ref}: no such file beside {os.path.basename(path)}")

    channels = document.get("channels") or {}
    operations = document.get("operations") or {}
    messages = (document.get("components") or {}).get("messages") or {}
    if not channels:
        problem(path, "no channels")
    addresses = {}
    for name, channel in channels.items():
        where = f"channels.{name}"
        if not KEY_PATTERN.match(name):
            problem(where, "key must match [A-Za-z0-9._-]+")
        address = channel.get("address")
        if not isinstance(address, str) or not address:
            problem(where, "address must be a non-empty string")
        elif address in addresses:
            problem(where, f"address {address} is also channels.{addresses[address]}'s")
        else:
            addresses[address] = name
        if not channel.get("messages"):
            problem(where, "no messages")
        for key, ref in (channel.get("messages") or {}).items():
            if not KEY_PATTERN.match(key):
                problem(f"{where}.messages.{key}", "key must match [A-Za-z0-9._-]+")
            if not str((ref or {}).get("$ref", "")).startswith("#/components/messages/"):
                problem(f"{where}.messages.{key}", "must be a $ref to #/components/messages/...")

    action_of = {}
    for name, operation in operations.items():
        where = f"operations.{name}"
        if operation.get("action") not in ("send", "receive"):
            problem(where, f"action must be send or receive, is {operation.get('action')!r}")
        ref = str((operation.get("channel") or {}).get("$ref", ""))
        channel_name = ref[len("#/channels/"):] if ref.startswith("#/channels/") else None
        if channel_name not in channels:
            problem(where, f"channel must be a $ref to one of #/channels/..., is {ref!r}")
            continue
        if channel_name in action_of:
            problem(where, f"a second operation on channels.{channel_name}")
        action_of[channel_name] = operation.get("action")
        listed = {str((m or {}).get("$ref", "")) for m in operation.get("messages") or []}
        expected = {f"{ref}/messages/{key}" for key in channels[channel_name].get("messages") or {}}
        if listed != expected:
            problem(where, f"messages must be exactly channels.{channel_name}'s: missing {sorted(expected - listed)}, "
                           f"extra {sorted(listed - expected)}")
    for name in set(channels) - set(action_of):
        problem(f"channels.{name}", "no operation uses it")

    declared = {}
    for name, channel in channels.items():
        entry = {"action": action_of.get(name), "messages": [], "headers": [], "requiredHeaders": [], "key": None}
        for key, ref in (channel.get("messages") or {}).items():
            message = resolve(document, ref)
            if not isinstance(message, dict):
                continue
            where = f"message {key} (channels.{name})"
            entry["messages"].append(message.get("name"))
            if message.get("name") != key:
                problem(where, f"name {message.get('name')!r} differs from its key")
            check_payload(message, base, where)
            headers = resolve(document, message.get("headers")) if "headers" in message else {"properties": {}}
            if not isinstance(headers, dict) or headers.get("type", "object") != "object":
                problem(where, "headers must be an object schema")
                headers = {}
            names = sorted((headers.get("properties") or {}).keys())
            required = sorted(headers.get("required") or [])
            if set(required) - set(names):
                problem(where, f"required headers {sorted(set(required) - set(names))} are not among its properties")
            kafka = (resolve(document, message.get("bindings")) or {}).get("kafka") or {}
            key_schema = kafka.get("key") or {}
            if not kafka.get("bindingVersion") or not key_schema.get("title"):
                problem(where, "needs a Kafka binding with a bindingVersion and a key schema with a title")
            for field, value in (("headers", names), ("requiredHeaders", required), ("key", key_schema.get("title"))):
                if entry[field] not in (None, []) and entry[field] != value:
                    problem(f"channels.{name}", f"its messages differ in {field}")
                entry[field] = value
        declared[channel.get("address")] = entry
    return declared


def check_payload(message, base, where):
    payload = message.get("payload")
    if not isinstance(payload, dict):
        problem(where, "no payload")
        return
    if "schemaFormat" not in payload:
        if message.get("contentType") == "application/json":
            problem(where, "a JSON message's payload must be one of the JSON Schemas")
        return  # an inline AsyncAPI schema (the dead letter's bytes)
    if payload["schemaFormat"] != JSON_SCHEMA_FORMAT:
        problem(where, f"schemaFormat must be {JSON_SCHEMA_FORMAT}")
    ref = str((payload.get("schema") or {}).get("$ref", ""))
    name = message.get("name")
    if ref not in (f"events/{name}.json", f"tasks/{name}.json"):
        problem(where, f"payload must be events/{name}.json or tasks/{name}.json, is {ref!r}")
    file = os.path.join(base, ref)
    if not os.path.isfile(file):
        return
    with open(file, encoding="utf-8") as f:
        schema = json.load(f)
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as error:  # noqa: BLE001 -- any schema error is the problem reported
        problem(where, f"{ref} is not a valid draft 2020-12 schema: {error}")
    if ((schema.get("properties") or {}).get("type") or {}).get("const") != name:
        problem(where, f"{ref} is not the schema of type {name}")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "schemas", "asyncapi.yaml")
    declared = check(path)
    if problems:
        for line in problems:
            print(f"check-asyncapi: {line}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(declared, sort_keys=True))


if __name__ == "__main__":
    main()
