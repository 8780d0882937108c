#!/usr/bin/env python3
"""Validates JSON files against fathom's schemas (docs/json-schema/).

usage: json-schema.py SCHEMA_DIR SCHEMA FILE...

A validator for the subset of JSON Schema (2020-12) the schemas use, in the
standard library so that the test runs everywhere; it refuses a schema that
uses any other keyword, so the subset cannot silently weaken a check. When the
jsonschema package is installed, each file is also checked with it (and the
schemas with its meta-schema), so the two validators keep each other honest.
"""
import json
import os
import sys

ANNOTATIONS = {'$schema', '$id', '$defs', 'title', 'description'}
KEYWORDS = {'$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties',
            'propertyNames', 'items', 'minimum', 'if', 'then', 'else'}
TYPES = {
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'string': lambda v: isinstance(v, str),
    'integer': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'boolean': lambda v: isinstance(v, bool),
    'null': lambda v: v is None,
}


class Schemas:
    def __init__(self, root):
        self.root, self.docs = root, {}

    def doc(self, name):
        if name not in self.docs:
            with open(os.path.join(self.root, name)) as f:
                self.docs[name] = json.load(f)
        return self.docs[name]

    def resolve(self, ref, base):
        name, _, frag = ref.partition('#')
        name = name or base
        node = self.doc(name)
        for part in filter(None, frag.split('/')):
            node = node[part]
        return node, name

    def errors(self, schema, v, base, path):
        """Yields what is wrong with value v at path."""
        unknown = set(schema) - KEYWORDS - ANNOTATIONS
        if unknown:
            raise SystemExit(f'{base}: keywords this validator does not know: {sorted(unknown)}')
        if '$ref' in schema:
            sub, name = self.resolve(schema['$ref'], base)
            yield from self.errors(sub, v, name, path)
        if 'type' in schema:
            types = schema['type'] if isinstance(schema['type'], list) else [schema['type']]
            if not any(TYPES[t](v) for t in types):
                yield f'{path}: {json.dumps(v)[:80]} is not of type {"/".join(types)}'
                return
        if 'enum' in schema and v not in schema['enum']:
            yield f'{path}: {json.dumps(v)[:80]} is not one of {schema["enum"]}'
        if 'const' in schema and v != schema['const']:
            yield f'{path}: {json.dumps(v)[:80]} is not {json.dumps(schema["const"])}'
        if 'minimum' in schema and TYPES['number'](v) and v < schema['minimum']:
            yield f'{path}: {v} is below {schema["minimum"]}'
        if isinstance(v, dict):
            props = schema.get('properties', {})
            for k in schema.get('required', []):
                if k not in v:
                    yield f'{path}: the key "{k}" is missing'
            for k, x in v.items():
                if 'propertyNames' in schema:
                    yield from self.errors(schema['propertyNames'], k, base, f'{path} (key "{k}")')
                if k in props:
                    yield from self.errors(props[k], x, base, f'{path}.{k}')
                elif schema.get('additionalProperties') is False:
                    yield f'{path}: the key "{k}" is not in the schema'
                elif isinstance(schema.get('additionalProperties'), dict):
                    yield from self.errors(schema['additionalProperties'], x, base, f'{path}.{k}')
        if isinstance(v, list) and 'items' in schema:
            for i, x in enumerate(v):
                yield from self.errors(schema['items'], x, base, f'{path}[{i}]')
        if 'if' in schema:
            ok = not any(True for _ in self.errors(schema['if'], v, base, path))
            branch = schema.get('then' if ok else 'else')
            if branch is not None:
                yield from self.errors(branch, v, base, path)


def main():
    root, name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    schemas = Schemas(root)
    try:
        import jsonschema
        import referencing
        docs = [schemas.doc(n) for n in sorted(os.listdir(root)) if n.endswith('.json')]
        for d in docs:
            jsonschema.Draft202012Validator.check_schema(d)
        registry = referencing.Registry().with_resources(
            (d['$id'], referencing.Resource.from_contents(d)) for d in docs)
        library = jsonschema.Draft202012Validator(schemas.doc(name), registry=registry)
    except ImportError:
        library = None
    bad = 0
    for path in files:
        with open(path) as f:
            value = json.load(f)
        errs = list(schemas.errors(schemas.doc(name), value, name, '$'))
        if library is not None:
            errs += [f'jsonschema: {"/".join(map(str, e.absolute_path))}: {e.message[:200]}'
                     for e in library.iter_errors(value)]
        for e in errs[:20]:
            print(f'{path}: {e}', file=sys.stderr)
        bad += bool(errs)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
