"""Emits the C++ message structs, their encode/decode and the API catalogue."""
from msgdef import PRIMITIVES, INT_LIMITS, condition_for_set

# ------------------------------------------------------------------ C++ types

def cpp_elem_type(f):
    if f.elem_is_struct:
        return f.struct.name
    if f.elem_type == "string":
        return "std::string"
    if f.elem_type == "bytes":
        return "std::vector<uint8_t>"
    return PRIMITIVES[f.elem_type][0]


def cpp_type(f):
    if f.is_array:
        base = f"std::vector<{cpp_elem_type(f)}>"
    else:
        base = cpp_elem_type(f)
    if f.nullable_anywhere() and (f.is_array or f.type in ("string", "bytes")):
        return f"std::optional<{base}>"
    return base


def int_literal(type_name, text):
    value = int(text, 0)
    bits = INT_LIMITS.get(type_name)
    if bits and value == -(1 << (bits - 1)):
        return f"std::numeric_limits<{PRIMITIVES[type_name][0]}>::min()"
    return f"{value}LL" if type_name == "int64" and abs(value) > 0x7fffffff else str(value)


def default_expr(f):
    """C++ expression for the field's default value."""
    t, d = cpp_type(f), f.default
    if f.is_array:  # arrays default to empty unless the default is null
        return "std::nullopt" if d == "null" else f"std::vector<{cpp_elem_type(f)}>{{}}"
    if f.type in INT_LIMITS or f.type in ("uint16", "uint32"):
        return int_literal(f.type, d) if d else "0"
    if f.type == "float64":
        return f"{float(d)!r}" if d else "0.0"
    if f.type == "bool":
        return "true" if d == "true" else "false"
    if f.type == "string":
        if d == "null":
            return "std::nullopt"
        return f"std::string({cpp_string(d)})" if d else "std::string{}"
    if f.type == "bytes":
        return "std::nullopt" if d == "null" else "std::vector<uint8_t>{}"
    if f.type == "records":
        return "RecordsView{}"
    return f"{t}{{}}"


def cpp_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def member_initializer(f):
    d = default_expr(f)
    optional = cpp_type(f).startswith("std::optional")
    if d in ("std::nullopt", "RecordsView{}", f"{cpp_type(f)}{{}}") or (d.endswith("{}") and not optional):
        return ""
    if f.type == "uuid":
        return ""
    return f" = {d}"


# ------------------------------------------------------------------ code emission

class Out:
    def __init__(self):
        self.lines = []
        self.level = 0

    def __call__(self, text=""):
        self.lines.append(("  " * self.level + text) if text else "")

    def indent(self):
        self.level += 1

    def dedent(self):
        self.level -= 1

    def text(self):
        return "\n".join(self.lines) + "\n"


def compact_expr(f, msg):
    return f.flexible_override.condition(msg.valid) if f.flexible_override else "flexible"


def emit_write_value(out, f, msg, value, compact, w):
    """Writes one value (a whole field, or one array element) of f's element type."""
    t = f.elem_type
    if f.elem_is_struct:
        out(f"{value}.encode({w}, version);")
    elif t == "string":
        out(f"{w}.write_string({value}, {compact});")
    elif t == "bytes":
        out(f"{w}.write_bytes({value}, {compact});")
    elif t == "records":
        out(f"{w}.write_records({value}, {compact});")
    else:
        out(f"{w}.write_{PRIMITIVES[t][1]}({value});")


def presence(f, msg):
    """The versions in which f is present, as a context for nested conditions."""
    return f.versions.intersect(msg.valid)


def emit_encode_field(out, f, msg, compact, w="w"):
    name, null_ok = f.name, f.nullable.condition(presence(f, msg))
    optional = cpp_type(f).startswith("std::optional")
    if f.is_array:
        value = f"(*{name})" if optional else name
        if optional:
            out(f"if (!{name}) {{")
            out.indent()
            if null_ok != "true":
                out(f"if (!({null_ok})) throw EncodeError(\"{msg.name}: null in non-nullable {name}\");")
            out(f"{w}.write_array_length(-1, {compact});")
            out.dedent()
            out("} else {")
            out.indent()
        out(f"{w}.write_array_length(static_cast<int32_t>({value}.size()), {compact});")
        out(f"for (const auto& element : {value}) {{")
        out.indent()
        emit_write_value(out, f, msg, "element", compact, w)
        out.dedent()
        out("}")
        if optional:
            out.dedent()
            out("}")
    elif optional:
        kind = f.type
        non_null = [f"if (!{name}) throw EncodeError(\"{msg.name}: null in non-nullable {name}\");",
                    f"{w}.write_{kind}(*{name}, {compact});"]
        if null_ok == "true":
            out(f"{w}.write_nullable_{kind}({name}, {compact});")
        elif null_ok == "false":
            for line in non_null:
                out(line)
        else:
            out(f"if ({null_ok}) {{")
            out(f"  {w}.write_nullable_{kind}({name}, {compact});")
            out("} else {")
            for line in non_null:
                out("  " + line)
            out("}")
    else:
        emit_write_value(out, f, msg, name, compact, w)


def min_wire_size(f, compact):
    t = f.elem_type
    if f.elem_is_struct:
        return "1"
    size = PRIMITIVES[t][2]
    if size:
        return str(size)
    return f"({compact} ? 1 : {2 if t == 'string' else 4})"


def emit_read_value(out, f, msg, target, compact, r):
    t = f.elem_type
    if f.elem_is_struct:
        out(f"{target}.decode({r}, version);")
    elif t in ("string", "bytes"):
        out(f"{target} = {r}.read_{t}({compact});")
    elif t == "records":
        out(f"{target} = {r}.read_records({compact});")
    else:
        out(f"{target} = {r}.read_{PRIMITIVES[t][1]}();")


def emit_decode_field(out, f, msg, compact, r):
    name, null_ok = f.name, f.nullable.condition(presence(f, msg))
    optional = cpp_type(f).startswith("std::optional")
    if f.is_array:
        out("{")
        out.indent()
        out(f"const int32_t count = {r}.read_array_length({compact}, {min_wire_size(f, compact)});")
        out("if (count < 0) {")
        out.indent()
        if optional:
            if null_ok != "true":
                out(f"if (!({null_ok})) throw DecodeError(\"{msg.name}: null in non-nullable {name}\");")
            out(f"{name}.reset();")
        else:
            out(f"throw DecodeError(\"{msg.name}: null in non-nullable {name}\");")
        out.dedent()
        out("} else {")
        out.indent()
        vec = f"{name}.emplace()" if optional else name
        out(f"auto& elements = {vec};")
        out("elements.clear();")
        if not f.elem_is_struct and PRIMITIVES[f.elem_type][2]:
            out("elements.reserve(static_cast<size_t>(count));  // bounded by the input size")
        out("for (int32_t i = 0; i < count; ++i) {")
        out.indent()
        if f.elem_is_struct:
            emit_read_value(out, f, msg, "elements.emplace_back()", compact, r)
        else:
            out(f"auto& element = elements.emplace_back();")
            emit_read_value(out, f, msg, "element", compact, r)
        out.dedent()
        out("}")
        out.dedent()
        out("}")
        out.dedent()
        out("}")
    elif optional:
        if null_ok == "true":
            out(f"{name} = {r}.read_nullable_{f.type}({compact});")
        elif null_ok == "false":
            out(f"{name} = {r}.read_{f.type}({compact});")
        else:
            out(f"if ({null_ok}) {name} = {r}.read_nullable_{f.type}({compact});")
            out(f"else {name} = {r}.read_{f.type}({compact});")
    else:
        emit_read_value(out, f, msg, name, compact, r)


def is_default_check(f):
    d = default_expr(f)
    if f.is_array and d != "std::nullopt":
        opt = cpp_type(f).startswith("std::optional")
        return f"({f.name} && {f.name}->empty())" if opt else f"{f.name}.empty()"
    return f"{f.name} == {d}"


def regular_condition(f, msg):
    """Versions in which f is a regular (not tagged) field."""
    present = f.versions.versions_in(msg.valid)
    if f.tag is not None:
        present -= f.tagged.versions_in(msg.valid)
    return condition_for_set(present, msg.valid)


def emit_struct_methods(out, qualified, s_fields, msg, top_level):
    flex_cond = msg.flexible.condition(msg.valid)
    tagged = sorted((f for f in s_fields if f.tag is not None), key=lambda f: f.tag)

    # encode
    out(f"void {qualified}::encode(Writer& w, [[maybe_unused]] int16_t version) const {{")
    out.indent()
    if top_level:
        out(f"if (version < kMinVersion || version > kMaxVersion) "
            f"throw EncodeError(\"{msg.name}: unsupported version \" + std::to_string(version));")
    out(f"[[maybe_unused]] const bool flexible = {flex_cond};")
    for f in s_fields:
        cond = regular_condition(f, msg)
        if cond == "false":
            continue
        compact = compact_expr(f, msg)
        if cond == "true":
            emit_encode_field(out, f, msg, compact)
        else:
            out(f"if ({cond}) {{")
            out.indent()
            emit_encode_field(out, f, msg, compact)
            out.dedent()
            out("}")
    if flex_cond != "false":
        out("if (flexible) {")
        out.indent()
        if not tagged:
            out("w.write_empty_tagged_fields();")
        else:
            for f in tagged:
                out(f"const bool write_{f.name} = ({f.tagged.condition(msg.valid)}) && !({is_default_check(f)});")
            out("w.write_unsigned_varint(" + " + ".join(f"(write_{f.name} ? 1u : 0u)" for f in tagged) + ");")
            for f in tagged:
                out(f"if (write_{f.name}) {{")
                out.indent()
                out("std::vector<uint8_t> body;  // encoded on its own first: the size prefix comes first")
                out("Writer field_writer(body);")
                emit_encode_field(out, f, msg, "true", "field_writer")
                out(f"w.write_tagged_field({f.tag}, body);")
                out.dedent()
                out("}")
        out.dedent()
        out("}")
    out.dedent()
    out("}")
    out()

    # decode
    out(f"void {qualified}::decode(Reader& r, [[maybe_unused]] int16_t version) {{")
    out.indent()
    if top_level:
        out(f"if (version < kMinVersion || version > kMaxVersion) "
            f"throw DecodeError(\"{msg.name}: unsupported version \" + std::to_string(version));")
    out(f"[[maybe_unused]] const bool flexible = {flex_cond};")
    for f in s_fields:
        cond = regular_condition(f, msg)
        if cond == "false":
            continue
        compact = compact_expr(f, msg)
        if cond == "true":
            emit_decode_field(out, f, msg, compact, "r")
        else:
            out(f"if ({cond}) {{")
            out.indent()
            emit_decode_field(out, f, msg, compact, "r")
            out.dedent()
            out("}")
    if flex_cond != "false":
        out("if (flexible) {")
        out.indent()
        if not tagged:
            out("r.skip_tagged_fields();")
        else:
            out("r.read_tagged_fields([&](uint32_t tag, Reader& field_reader) {")
            out.indent()
            out("switch (tag) {")
            for f in tagged:
                out(f"  case {f.tag}:")
                out.indent()
                out.indent()
                out(f"if ({f.tagged.condition(msg.valid)}) {{")
                out.indent()
                emit_decode_field(out, f, msg, "true", "field_reader")
                out.dedent()
                out("}")
                out("break;")
                out.dedent()
                out.dedent()
            out("  default:")
            out("    break;  // unknown tags are skipped")
            out("}")
            out.dedent()
            out("});")
        out.dedent()
        out("}")
    out.dedent()
    out("}")
    out()

def field_comment(f):
    notes = [f"v{f.versions}"]
    if not f.nullable.empty():
        notes.append(f"nullable v{f.nullable}")
    if f.tag is not None:
        notes.append(f"tag {f.tag} in v{f.tagged}")
    if f.flexible_override is not None:
        notes.append("never compact" if f.flexible_override.empty() else f"compact in v{f.flexible_override}")
    return ", ".join(notes)


def emit_struct_decl(out, name, fields):
    out(f"struct {name} {{")
    out.indent()
    for f in fields:
        out(f"{cpp_type(f)} {f.name}{member_initializer(f)};  // {field_comment(f)}")
    if fields:
        out()
    out("void encode(Writer& w, int16_t version) const;")
    out("void decode(Reader& r, int16_t version);")
    out(f"bool operator==(const {name}&) const = default;")
    out.dedent()
    out("};")


def first_flexible(msg):
    return msg.flexible.lo if not msg.flexible.empty() else "std::numeric_limits<int16_t>::max()"


def emit_message_decl(out, msg):
    if msg.kind == "header":
        out(f"// Header; versions {msg.valid}, flexible {msg.flexible}.")
    else:
        out(f"// {msg.api_name} {msg.kind} (API key {msg.api_key}); versions {msg.valid}, flexible {msg.flexible}.")
    out(f"struct {msg.name} {{")
    out.indent()
    if msg.api_key is not None:
        out(f"static constexpr int16_t kApiKey = {msg.api_key};")
    out(f"static constexpr int16_t kMinVersion = {msg.valid.lo};")
    out(f"static constexpr int16_t kMaxVersion = {msg.valid.hi};")
    out(f"// std::numeric_limits<int16_t>::max() when no version is flexible.")
    out(f"static constexpr int16_t kFirstFlexibleVersion = {first_flexible(msg)};")
    out(f"static constexpr std::string_view kName = \"{msg.name}\";")
    if msg.kind == "request":
        out(f"using Response = {msg.api_name}Response;  // what answers this request (clients, tests)")
    elif msg.kind == "response":
        out(f"using Request = {msg.api_name}Request;")
    out()
    for s in msg.structs:
        emit_struct_decl(out, s.name, s.fields)
        out()
    for f in msg.fields:
        out(f"{cpp_type(f)} {f.name}{member_initializer(f)};  // {field_comment(f)}")
    if msg.fields:
        out()
    out("// Throws EncodeError / DecodeError for a version outside [kMinVersion, kMaxVersion].")
    out("void encode(Writer& w, int16_t version) const;")
    out("void decode(Reader& r, int16_t version);")
    out(f"bool operator==(const {msg.name}&) const = default;")
    out.dedent()
    out("};")
    out()


GENERATED_BANNER = "// Generated by src/protocol/gen/protogen.py from {src}. Do not edit."


def generate_header(stem, messages, src):
    out = Out()
    out(GENERATED_BANNER.format(src=src))
    out("#pragma once")
    for inc in ("<cstdint>", "<limits>", "<optional>", "<string>", "<string_view>", "<vector>"):
        out(f"#include {inc}")
    out()
    out('#include "protocol/wire.h"')
    out()
    out("namespace runnel::protocol {")
    out()
    apis = sorted({msg.api_name for msg in messages if msg.api_name})
    for api_name in apis:  # each names the other (Request::Response, Response::Request)
        out(f"struct {api_name}Request;")
        out(f"struct {api_name}Response;")
    if apis:
        out()
    for msg in messages:
        emit_message_decl(out, msg)
    out("}  // namespace runnel::protocol")
    return out.text()


def generate_source(stem, messages, src):
    out = Out()
    out(GENERATED_BANNER.format(src=src))
    out(f'#include "protocol/messages/{stem}.h"')
    out()
    out("#include <string>")
    out()
    out("namespace runnel::protocol {")
    out()
    for msg in messages:
        for s in msg.structs:
            emit_struct_methods(out, f"{msg.name}::{s.name}", s.fields, msg, False)
        emit_struct_methods(out, msg.name, msg.fields, msg, True)
    out("}  // namespace runnel::protocol")
    return out.text()


def generate_umbrella(stems):
    out = Out()
    out(GENERATED_BANNER.format(src="src/protocol/messages/*.msg"))
    out("// Every request/response struct and the headers.")
    out("#pragma once")
    for stem in stems:
        out(f'#include "protocol/messages/{stem}.h"')
    return out.text()


def generate_api_keys(apis):
    out = Out()
    out(GENERATED_BANNER.format(src="src/protocol/messages/*.msg"))
    out("#pragma once")
    out("#include <cstdint>")
    out()
    out("namespace runnel::protocol {")
    out()
    out("// Kafka API keys of every API Runnel defines.")
    out("enum class ApiKey : int16_t {")
    for api in apis:
        out(f"  k{api['name']} = {api['key']},")
    out("};")
    out()
    out("}  // namespace runnel::protocol")
    return out.text()


def generate_catalogue(apis):
    out = Out()
    out(GENERATED_BANNER.format(src="src/protocol/messages/*.msg"))
    out('#include "protocol/api_info.h"')
    out()
    out("#include <limits>")
    out()
    out("namespace runnel::protocol {")
    out("namespace {")
    out()
    out("constexpr ApiInfo kApis[] = {")
    for api in apis:
        flex = api["flexible"].lo if not api["flexible"].empty() else "std::numeric_limits<int16_t>::max()"
        out(f"    {{{api['key']}, \"{api['name']}\", {api['valid'].lo}, {api['valid'].hi}, {flex}}},")
    out("};")
    out()
    out("}  // namespace")
    out()
    out("std::span<const ApiInfo> all_apis() { return kApis; }")
    out()
    out("}  // namespace runnel::protocol")
    return out.text()
