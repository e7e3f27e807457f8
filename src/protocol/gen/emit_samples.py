"""Emits round-trip test samples: fill functions giving every field present in a
version a non-default value (or null), plus the list of test cases."""
from emit_cpp import GENERATED_BANNER, Out, cpp_elem_type, cpp_type, default_expr, presence
from msgdef import INT_LIMITS, PRIMITIVES

# ------------------------------------------------------------------ test samples

def sample_value(f, s):
    """C++ expression for a non-default sample of one element of f."""
    t = f.elem_type
    if t in INT_LIMITS or t in ("uint16", "uint32"):
        return f"{s}.next_int<{PRIMITIVES[t][0]}>({default_expr_elem(f)})"
    return {"bool": f"{s}.next_bool({default_expr_elem(f)})", "float64": f"{s}.next_double()",
            "uuid": f"{s}.next_uuid()", "string": f"{s}.next_string()", "bytes": f"{s}.next_bytes()",
            "records": f"{s}.next_records()"}[t]


def default_expr_elem(f):
    if f.is_array:
        return "0" if f.elem_type != "bool" else "false"
    return default_expr(f)


def emit_fill_field(out, f, msg):
    null_cond = f.nullable.condition(presence(f, msg))
    can_be_null = null_cond != "false" and (f.is_array or f.type in ("string", "bytes", "records"))
    if can_be_null:
        out(f"if (s.nulls && ({null_cond})) {{")
        out.indent()
        out(f"m.{f.name} = {'RecordsView{}' if f.type == 'records' else 'std::nullopt'};")
        out.dedent()
        out("} else {")
        out.indent()
    if f.is_array:
        optional = cpp_type(f).startswith("std::optional")
        out(f"m.{f.name}.emplace(2);" if optional else f"m.{f.name}.assign(2, {{}});")
        vec = f"(*m.{f.name})" if optional else f"m.{f.name}"
        out(f"for (auto& element : {vec}) {{")
        out.indent()
        if f.elem_is_struct:
            out("fill(element, version, s);")
        else:
            out(f"element = {sample_value(f, 's')};")
        out.dedent()
        out("}")
    elif f.elem_is_struct:
        out(f"fill(m.{f.name}, version, s);")
    else:
        out(f"m.{f.name} = {sample_value(f, 's')};")
    if can_be_null:
        out.dedent()
        out("}")


def emit_fill(out, qualified, fields, msg):
    out(f"[[maybe_unused]] void fill({qualified}& m, int16_t version, SampleSource& s) {{")
    out.indent()
    out("(void)version;")
    for f in fields:
        cond = f.versions.condition(msg.valid)
        if cond == "false":
            continue
        out(f"if ({cond}) {{")
        out.indent()
        emit_fill_field(out, f, msg)
        out.dedent()
        out("}")
    out("(void)m;")
    out("(void)s;")
    out.dedent()
    out("}")
    out()


def generate_samples(stem, messages, src):
    """One test source per .msg file, so the samples compile in parallel."""
    out = Out()
    out(GENERATED_BANNER.format(src=src))
    out("// Sample values for the round-trip tests: every field present in a version")
    out("// gets a non-default value (or null, when SampleSource::nulls is set).")
    out(f'#include "protocol/messages/{stem}.h"')
    out('#include "round_trip.h"')
    out()
    out("namespace runnel::protocol::test {")
    out("namespace {")
    out()
    for msg in messages:
        for st in msg.structs:
            emit_fill(out, f"{msg.name}::{st.name}", st.fields, msg)
        emit_fill(out, msg.name, msg.fields, msg)
    out("}  // namespace")
    out()
    out(f"std::vector<RoundTripCase> round_trip_cases_{stem}() {{")
    out("  return {")
    for msg in messages:
        out(f"      round_trip_case<{msg.name}, fill>(),")
    out("  };")
    out("}")
    out()
    out("}  // namespace runnel::protocol::test")
    return out.text()


def generate_samples_index(stems):
    out = Out()
    out(GENERATED_BANNER.format(src="src/protocol/messages/*.msg"))
    out('#include "round_trip.h"')
    out()
    out("namespace runnel::protocol::test {")
    out()
    for stem in stems:
        out(f"std::vector<RoundTripCase> round_trip_cases_{stem}();")
    out()
    out("std::vector<RoundTripCase> generated_round_trip_cases() {")
    out("  std::vector<RoundTripCase> all;")
    for stem in stems:
        out(f"  for (const auto& c : round_trip_cases_{stem}()) all.push_back(c);")
    out("  return all;")
    out("}")
    out()
    out("}  // namespace runnel::protocol::test")
    return out.text()
