"""Runnel message definitions (.msg files): the model and the parser.

See protogen.py for the format.
"""
import os
import re
import shlex

PRIMITIVES = {
    # type: (C++ type, reader suffix, fixed wire size or None)
    "bool": ("bool", "bool", 1),
    "int8": ("int8_t", "int8", 1),
    "int16": ("int16_t", "int16", 2),
    "int32": ("int32_t", "int32", 4),
    "int64": ("int64_t", "int64", 8),
    "uint16": ("uint16_t", "uint16", 2),
    "uint32": ("uint32_t", "uint32", 4),
    "float64": ("double", "float64", 8),
    "uuid": ("Uuid", "uuid", 16),
    "string": (None, "string", None),
    "bytes": (None, "bytes", None),
    "records": ("RecordsView", "records", None),
}
INT_LIMITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
CPP_KEYWORDS = {"default", "operator", "class", "struct", "namespace", "template", "new", "delete",
                "public", "private", "protected", "register", "union", "this", "int", "long"}


class DefinitionError(Exception):
    pass


class Versions:
    """An inclusive version range; hi=None means open-ended; empty when lo is None."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text):
        if text == "none":
            return Versions(None, None)
        m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
        if not m:
            raise DefinitionError(f"bad version range '{text}'")
        lo = int(m.group(1))
        if m.group(2) == "+":
            return Versions(lo, None)
        return Versions(lo, int(m.group(3)) if m.group(3) else lo)

    def empty(self):
        return self.lo is None

    def contains(self, v):
        return not self.empty() and v >= self.lo and (self.hi is None or v <= self.hi)

    def intersect(self, other):
        if self.empty() or other.empty():
            return Versions(None, None)
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        hi = min(his) if his else None
        return Versions(None, None) if hi is not None and lo > hi else Versions(lo, hi)

    def versions_in(self, valid):
        hi = valid.hi if valid.hi is not None else 255
        return {v for v in range(valid.lo, hi + 1) if self.contains(v)}

    def condition(self, context):
        """C++ boolean expression on `version`, simplified for versions within `context`."""
        return condition_for_set(self.versions_in(context), context)

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi is None:
            return f"{self.lo}+"
        return f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}"


def condition_for_set(versions, context):
    """C++ expression true exactly for `versions` among the versions of `context`."""
    hi = context.hi if context.hi is not None else 255
    all_versions = list(range(context.lo, hi + 1))
    if not versions:
        return "false"
    if len(versions) == len(all_versions):
        return "true"
    ranges, start = [], None
    for v in all_versions + [None]:
        if v in versions and start is None:
            start = v
        elif v not in versions and start is not None:
            ranges.append((start, prev))
            start = None
        prev = v
    parts = []
    for lo, r_hi in ranges:
        checks = []
        if lo > context.lo:
            checks.append(f"version >= {lo}")
        if r_hi < hi:
            checks.append(f"version <= {r_hi}")
        parts.append(" && ".join(checks) if lo != r_hi or len(checks) < 2 else f"version == {lo}")
    return parts[0] if len(parts) == 1 else " || ".join(f"({p})" for p in parts)


class Field:
    def __init__(self, name, type_name, line_no):
        self.name = name + "_" if name in CPP_KEYWORDS else name
        self.type = type_name
        self.line_no = line_no
        self.versions = Versions(0, None)
        self.nullable = Versions(None, None)
        self.default = None
        self.tag = None
        self.tagged = None
        self.flexible_override = None
        self.children = []
        self.struct = None  # Struct, for struct and struct-array fields

    @property
    def is_array(self):
        return self.type.startswith("[]")

    @property
    def elem_type(self):
        return self.type[2:] if self.is_array else self.type

    @property
    def elem_is_struct(self):
        return self.elem_type not in PRIMITIVES

    def nullable_anywhere(self):
        return not self.nullable.empty()


class Struct:
    def __init__(self, name, fields):
        self.name, self.fields = name, fields


class Message:
    def __init__(self, name, kind, valid, flexible, api_key=None, api_name=None):
        self.name, self.kind = name, kind
        self.valid, self.flexible = valid, flexible
        self.api_key, self.api_name = api_key, api_name
        self.fields = []
        self.structs = []  # nested structs, dependencies first


# ------------------------------------------------------------------ parsing

def parse_attrs(tokens, line_no):
    attrs = {}
    for tok in tokens:
        if re.fullmatch(r"v\d+(\+|-\d+)?", tok):
            attrs["versions"] = tok[1:]
        elif "=" in tok:
            key, value = tok.split("=", 1)
            attrs[key] = value
        else:
            attrs[tok] = None
    return attrs


def required(attrs, key, where):
    if attrs.get(key) is None:
        raise DefinitionError(f"{where}: missing {key}=")
    return attrs[key]


def valid_range(text, where):
    """Valid versions must be a closed range: we only claim what we defined."""
    versions = Versions.parse(text)
    if versions.empty() or versions.hi is None:
        raise DefinitionError(f"{where}: valid= must be a closed range like 0-4")
    return versions


def parse_file(path):
    """Returns (stem, [Message], api dict or None)."""
    lines = []
    with open(path, encoding="utf-8") as f:
        for line_no, raw in enumerate(f, 1):
            try:
                tokens = shlex.split(raw, comments=True)
            except ValueError as e:
                raise DefinitionError(f"{path}:{line_no}: {e}")
            if not tokens:
                continue
            indent = len(raw) - len(raw.lstrip(" "))
            if indent % 2:
                raise DefinitionError(f"{path}:{line_no}: indent must be a multiple of 2")
            lines.append((indent // 2, tokens, line_no))

    messages, api = [], None
    i = 0
    while i < len(lines):
        depth, tokens, line_no = lines[i]
        attrs = parse_attrs(tokens[2:], line_no) if len(tokens) > 2 else {}
        where = f"{path}:{line_no}"
        if depth != 0:
            raise DefinitionError(f"{where}: unexpected indentation")
        if tokens[0] == "api":
            api = {"name": tokens[1], "key": int(required(attrs, "key", where)),
                   "valid": valid_range(required(attrs, "valid", where), where),
                   "flexible": Versions.parse(attrs.get("flexible", "none"))}
            i += 1
            continue
        if tokens[0] in ("request", "response"):
            if api is None:
                raise DefinitionError(f"{where}: '{tokens[0]}' before 'api'")
            msg = Message(api["name"] + tokens[0].capitalize(), tokens[0], api["valid"], api["flexible"],
                          api["key"], api["name"])
        elif tokens[0] == "message":
            msg = Message(tokens[1], "header", valid_range(required(attrs, "valid", where), where),
                          Versions.parse(attrs.get("flexible", "none")))
        else:
            raise DefinitionError(f"{where}: expected api/request/response/message")
        i += 1
        body = []
        while i < len(lines) and lines[i][0] > 0:
            body.append(lines[i])
            i += 1
        named_structs = {}
        msg.fields = parse_fields(body, 1, path, named_structs)
        resolve_structs(msg, named_structs, path)
        messages.append(msg)
    return os.path.splitext(os.path.basename(path))[0], messages, api


def parse_fields(body, depth, path, named_structs):
    fields, i = [], 0
    while i < len(body):
        d, tokens, line_no = body[i]
        where = f"{path}:{line_no}"
        if d != depth:
            raise DefinitionError(f"{where}: unexpected indentation")
        j = i + 1
        while j < len(body) and body[j][0] > depth:
            j += 1
        children = parse_fields(body[i + 1:j], depth + 1, path, named_structs)
        if tokens[0] == "struct" and len(tokens) == 2:
            named_structs[tokens[1]] = Struct(tokens[1], children)
            i = j
            continue
        if len(tokens) < 2:
            raise DefinitionError(f"{where}: expected 'name type'")
        field = Field(tokens[0], tokens[1], line_no)
        attrs = parse_attrs(tokens[2:], line_no)
        if "versions" in attrs:
            field.versions = Versions.parse(attrs.pop("versions"))
        if "nullable" in attrs:
            value = attrs.pop("nullable")
            field.nullable = field.versions if value is None else Versions.parse(value)
        field.default = attrs.pop("default", None)
        if "tag" in attrs:
            field.tag = int(attrs.pop("tag"))
            field.tagged = Versions.parse(attrs.pop("tagged")) if "tagged" in attrs else field.versions
        if "flexible" in attrs:
            field.flexible_override = Versions.parse(attrs.pop("flexible"))
        if attrs:
            raise DefinitionError(f"{where}: unknown attributes {sorted(attrs)}")
        field.children = children
        if field.elem_type not in PRIMITIVES and not field.elem_type[:1].isupper():
            raise DefinitionError(f"{where}: unknown type '{field.type}'")
        if children and not field.elem_is_struct:
            raise DefinitionError(f"{where}: primitive field with nested fields")
        if field.elem_is_struct and children:
            field.struct = Struct(field.elem_type, children)
        fields.append(field)
        i = j
    return fields


def resolve_structs(msg, named_structs, path):
    """Links struct references and orders nested structs dependencies-first."""
    seen = {}

    def visit(fields):
        for f in fields:
            if not f.elem_is_struct:
                continue
            if f.struct is None:
                if f.elem_type not in named_structs:
                    raise DefinitionError(f"{path}:{f.line_no}: struct '{f.elem_type}' has no fields")
                f.struct = named_structs[f.elem_type]
            if f.struct.name in seen:
                if seen[f.struct.name] is not f.struct:
                    raise DefinitionError(f"{path}:{f.line_no}: struct name '{f.struct.name}' reused")
                continue
            seen[f.struct.name] = f.struct
            visit(f.struct.fields)
            msg.structs.append(f.struct)

    visit(msg.fields)
    for s in named_structs.values():
        if s.name not in seen:
            raise DefinitionError(f"{path}: struct '{s.name}' is never used")
    check_fields(msg, msg.fields, path)


def check_fields(msg, fields, path):
    tags = set()
    for f in fields:
        where = f"{path}:{f.line_no}"
        if f.versions.intersect(msg.valid).empty():
            raise DefinitionError(f"{where}: '{f.name}' is in no valid version")
        if f.tag is not None:
            if f.tag in tags:
                raise DefinitionError(f"{where}: duplicate tag {f.tag}")
            tags.add(f.tag)
            hi = msg.valid.hi if msg.valid.hi is not None else 255
            if any(f.tagged.contains(v) and not msg.flexible.contains(v) for v in range(msg.valid.lo, hi + 1)):
                raise DefinitionError(f"{where}: tagged versions must be flexible")
        if f.struct is not None:
            check_fields(msg, f.struct.fields, path)
