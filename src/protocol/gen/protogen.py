#!/usr/bin/env python3
"""Generates C++ message structs with encode/decode from Runnel's .msg files.

Definition format (one file per API, see src/protocol/messages/*.msg):

    # comment
    api Produce key=0 valid=3-9 flexible=9+     # API name, key, versions
    request                                     # fields of ProduceRequest
      transactional_id  string  v3+  nullable  default=null
      acks              int16
      topic_data        []TopicProduceData      # array of nested struct ...
        name            string                  # ... whose fields are indented
    response                                    # fields of ProduceResponse
      ...

A file may instead hold stand-alone messages (the request/response headers):

    message RequestHeader valid=0-2 flexible=2+
      request_api_key  int16

Field line: `name type [attributes...]`.
  type        bool int8 int16 int32 int64 uint16 uint32 float64 uuid string bytes
              records, a struct name (CamelCase, fields indented below), or
              []T for an array of either.
  vA+ vA-B vA versions carrying the field (default: every version).
  nullable    nullable wherever present; nullable=A+ for some versions only.
  default=X   default value (number, true/false, null, or a quoted string).
  tag=N       tagged field with tag N; tagged=A+ narrows the tagged versions.
  flexible=none  never use compact encoding for this field (RequestHeader.client_id).
A line `struct Name` at field level declares a struct that `[]Name` fields
elsewhere in the same message refer to without repeating its fields.

Usage:
  protogen.py --out DIR file.msg...             headers/sources + catalogue
  protogen.py --samples DIR file.msg...         round-trip samples for the tests
Files are only rewritten when their content changes, so unchanged APIs do not
recompile.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emit_cpp import generate_api_keys, generate_catalogue, generate_header, generate_source, generate_umbrella  # noqa: E402
from emit_samples import generate_samples, generate_samples_index  # noqa: E402
from msgdef import DefinitionError, parse_file  # noqa: E402


# ------------------------------------------------------------------ main

def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output directory for protocol/... files")
    parser.add_argument("--samples", help="output directory for the round-trip test samples")
    parser.add_argument("definitions", nargs="+")
    args = parser.parse_args()

    parsed = []
    try:
        for path in sorted(args.definitions):
            parsed.append((path,) + parse_file(path))
    except DefinitionError as e:
        sys.exit(f"protogen: {e}")

    apis = sorted((api for _, _, _, api in parsed if api), key=lambda a: a["key"])
    keys = [a["key"] for a in apis]
    if len(keys) != len(set(keys)):
        sys.exit("protogen: duplicate API key")

    if args.out:
        root = os.path.join(args.out, "protocol")
        for path, stem, messages, _ in parsed:
            src = "src/protocol/messages/" + os.path.basename(path)
            write_if_changed(os.path.join(root, "messages", stem + ".h"), generate_header(stem, messages, src))
            write_if_changed(os.path.join(root, "messages", stem + ".cpp"), generate_source(stem, messages, src))
        write_if_changed(os.path.join(root, "messages.h"), generate_umbrella([p[1] for p in parsed]))
        write_if_changed(os.path.join(root, "api_keys.h"), generate_api_keys(apis))
        write_if_changed(os.path.join(root, "api_catalogue.cpp"), generate_catalogue(apis))
    if args.samples:
        for path, stem, messages, _ in parsed:
            src = "src/protocol/messages/" + os.path.basename(path)
            write_if_changed(os.path.join(args.samples, f"samples_{stem}.cpp"), generate_samples(stem, messages, src))
        write_if_changed(os.path.join(args.samples, "samples_index.cpp"), generate_samples_index([p[1] for p in parsed]))


if __name__ == "__main__":
    main()
