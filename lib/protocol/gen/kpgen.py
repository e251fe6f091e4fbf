#!/usr/bin/env python3
"""kpgen.py - generate kpipe's Kafka protocol structs and descriptor tables.

Usage: python3 lib/protocol/gen/kpgen.py <schema-dir> <out-dir> [<base-name>]

Reads every *.json message schema in <schema-dir> (Apache Kafka's
clients/src/main/resources/common/message; lines whose first non-blank
characters are // are comments) and writes <out-dir>/<base-name>.h and
<out-dir>/<base-name>.c (base name messages_gen by default). With another
base name (e.g. coordinator_gen for the record schemas of
group-coordinator/src/main/resources/common/message, "type": "data") no
API table is written, and the list of descriptors is named
kp_<base-name>_msgs instead of kp_all_msgs. Only the python3 standard library is used and the
output is deterministic (messages sorted by name, structs in dependency
order, then schema order). For record schemas of "type": "metadata" (KRaft's
metadata/src/main/resources/common/metadata, base name metadata_gen) it
also writes enum kp_metadata_record_type (KP_METADATA_TOPIC_RECORD = 2, ...)
and kp_metadata_gen_types[], indexed by record type (emit_record_types).

Naming rules (see lib/protocol/codec.h):
  * snake(): "KRaft" is first rewritten "Kraft"; then an underscore goes
    between an acronym run and a following capitalised word ("ISRNodes" ->
    "ISR_Nodes") and between a lowercase letter or digit and an uppercase
    letter ("ThrottleTimeMs" -> "Throttle_Time_Ms"); the result is
    lowercased. So "IsrNodes" and "ISRNodes" both give isr_nodes,
    "isKRaftController" gives is_kraft_controller.
  * message M                  -> struct kp_<snake(M)>, descriptor kp_<snake(M)>_desc
  * struct type T used in M    -> struct kp_<snake(M)>_<snake(T)> (nested and commonStructs)
  * field F                    -> member snake(F); a C keyword gets a trailing
                                  underscore ("Default" -> default_)
  * array field F              -> T *f; int32_t f_count;
  * struct field F nullable in some version -> extra member bool f_is_null
  * a struct with no fields gets one placeholder member `char unused_;`
    (empty structs are not ISO C).
  * Clashing member names or a struct type defined twice in one message
    stop the generator with an error rather than produce ambiguous C.

Descriptors (struct kp_field_desc / kp_msg_desc, lib/protocol/codec_internal.h):
one static field table per struct in wire order, giving kind, offsetof the
member (and of its _count / _is_null), versions, nullableVersions,
taggedVersions + tag, a field-level flexibleVersions override (only
RequestHeader.ClientId, "none"), the sub-struct descriptor and the default.
Version ranges "N+" become [N, 0x7fff]; "none" becomes [-1, -1].
Defaults: integers are parsed with int(x, 0) (so "0x7fffffff" and "-1"
work), bools case-insensitively ("False"), "null" sets def_null for
strings, bytes, arrays and structs, other strings are kept as def_str.
Every descriptor is exported as kp_<struct>_desc; commonStructs no field
refers to are left out. kp_all_msgs[] lists every message descriptor and
kp_api_table[] pairs requests and responses by apiKey (name = request name
minus "Request"; versions and flexible_min from the request schema).

Glue for handlers and clients, so that none of them copies a default or
writes an API number by hand:
  * per struct S: static inline kp_S_init(struct kp_S *) (every field at its
    schema default, kp_msg_init) and kp_S_new(kp_arena *, n) (n of them in
    the arena, each initialised, kp_msg_new);
  * enum kp_api_key: KP_API_<SNAKE(API)> = apiKey, e.g. KP_API_FIND_COORDINATOR;
  * per API: KP_API_<X>_REQUEST / KP_API_<X>_RESPONSE, the C types of its
    request and response, which typed wrappers use so that answering with
    the wrong struct does not compile.
"""

import json
import os
import re
import sys

C_KEYWORDS = {
	"auto", "break", "case", "char", "const", "continue", "default", "do",
	"double", "else", "enum", "extern", "float", "for", "goto", "if",
	"inline", "int", "long", "register", "restrict", "return", "short",
	"signed", "sizeof", "static", "struct", "switch", "typedef", "union",
	"unsigned", "void", "volatile", "while", "bool", "true", "false",
}

PRIMS = {
	# schema type: (field kind in codec_internal.h, C type)
	"bool": ("KP_F_BOOL", "bool"),
	"int8": ("KP_F_INT8", "int8_t"),
	"int16": ("KP_F_INT16", "int16_t"),
	"uint16": ("KP_F_UINT16", "uint16_t"),
	"int32": ("KP_F_INT32", "int32_t"),
	"int64": ("KP_F_INT64", "int64_t"),
	"float64": ("KP_F_FLOAT64", "double"),
	"uuid": ("KP_F_UUID", "kp_uuid"),
	"string": ("KP_F_STRING", "char *"),
	"bytes": ("KP_F_BYTES", "kp_bytes"),
	"records": ("KP_F_RECORDS", "kp_bytes"),
}

VMAX = 0x7FFF


def snake(name):
	s = name.replace("KRaft", "Kraft")
	s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
	s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
	return s.lower()


def member(name):
	m = snake(name)
	return m + "_" if m in C_KEYWORDS else m


def vrange(spec):
	"""A schema version spec ("0+", "1-3", "2", "none") as (min, max); (-1, -1) for none."""
	if spec is None or spec == "none":
		return (-1, -1)
	spec = spec.strip()
	if spec.endswith("+"):
		return (int(spec[:-1]), VMAX)
	if "-" in spec:
		a, b = spec.split("-")
		return (int(a), int(b))
	return (int(spec), int(spec))


def load(path):
	with open(path, encoding="utf-8") as f:
		text = "\n".join(l for l in f.read().split("\n") if not l.lstrip().startswith("//"))
	return json.loads(text)


def c_str(s):
	return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Struct:
	def __init__(self, msg, type_name, fields, top):
		self.msg = msg
		self.type_name = type_name
		self.fields = fields
		self.top = top
		if top:
			self.cname = "kp_" + snake(msg["name"])
		else:
			self.cname = "kp_" + snake(msg["name"]) + "_" + snake(type_name)


def collect(msg):
	"""Every struct of `msg` keyed by type name, plus the top-level struct."""
	structs = {}

	def walk(fields):
		for f in fields:
			t = f["type"][2:] if f["type"].startswith("[]") else f["type"]
			if t in PRIMS:
				continue
			if "fields" in f:
				if t in structs:
					raise SystemExit("%s: struct %s defined twice" % (msg["name"], t))
				structs[t] = Struct(msg, t, f["fields"], False)
				walk(f["fields"])

	for c in msg.get("commonStructs", []):
		structs[c["name"]] = Struct(msg, c["name"], c["fields"], False)
		walk(c["fields"])
	walk(msg["fields"])
	top = Struct(msg, msg["name"], msg["fields"], True)
	return top, structs


def field_struct(f, structs):
	t = f["type"][2:] if f["type"].startswith("[]") else f["type"]
	if t in PRIMS:
		return None
	if t not in structs:
		raise SystemExit("unknown struct type %s" % t)
	return structs[t]


def order(top, structs):
	"""Structs in dependency order (children before parents), top last."""
	out, seen = [], set()

	def visit(s):
		if id(s) in seen:
			return
		seen.add(id(s))
		for f in s.fields:
			sub = field_struct(f, structs)
			if sub is not None:
				visit(sub)
		out.append(s)

	visit(top)  # unreferenced commonStructs are left out
	return out


def parse_default(f, kind):
	"""(def_int, def_f64, def_str, def_null) of field f."""
	d = f.get("default")
	if d is None:
		return (0, 0.0, None, False)
	if isinstance(d, bool):
		d = "true" if d else "false"
	d = str(d)
	if kind == "KP_F_BOOL":
		return (1 if d.lower() == "true" else 0, 0.0, None, False)
	if kind in ("KP_F_INT8", "KP_F_INT16", "KP_F_UINT16", "KP_F_INT32", "KP_F_INT64"):
		return (int(d, 0), 0.0, None, False)
	if kind == "KP_F_FLOAT64":
		return (0, float(d), None, False)
	if d == "null":
		return (0, 0.0, None, True)
	if kind == "KP_F_STRING":
		return (0, 0.0, d, False)
	return (0, 0.0, None, False)


def emit_struct(s, structs, h, c, msg_ver, msg_flex):
	h.append("struct %s {" % s.cname)
	members = set()
	rows = []
	for f in s.fields:
		m = member(f["name"])
		t = f["type"]
		arr = t.startswith("[]")
		base = t[2:] if arr else t
		sub = field_struct(f, structs)
		nv = vrange(f.get("nullableVersions"))
		names = [m]
		if base in PRIMS:
			kind, ctype = PRIMS[base]
		else:
			kind, ctype = "KP_F_STRUCT", "struct %s " % sub.cname
		ctype_sp = ctype if ctype.endswith("*") or ctype.endswith(" ") else ctype + " "
		count_off = "0"
		if arr:
			h.append("\t%s*%s;" % (ctype_sp, m))
			h.append("\tint32_t %s_count;" % m)
			names.append(m + "_count")
			count_off = "offsetof(struct %s, %s_count)" % (s.cname, m)
			elem_kind, kind = kind, "KP_F_ARRAY"
		else:
			h.append("\t%s%s;" % (ctype_sp, m))
			elem_kind = "0"
			if kind == "KP_F_STRUCT" and nv[0] >= 0:
				h.append("\tbool %s_is_null;" % m)
				names.append(m + "_is_null")
				count_off = "offsetof(struct %s, %s_is_null)" % (s.cname, m)
		for n in names:
			if n in members:
				raise SystemExit("%s: member %s clashes" % (s.cname, n))
			members.add(n)
		vr = vrange(f.get("versions"))
		tv = vrange(f.get("taggedVersions")) if "tag" in f else (-1, -1)
		fv = vrange(f["flexibleVersions"]) if "flexibleVersions" in f else (-2, -2)
		di, df, ds, dn = parse_default(f, kind if not arr else "KP_F_ARRAY")
		rows.append("\t{ %s, %s, %s, %s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s, %dLL, %r }," % (
			c_str(f["name"]), kind, elem_kind,
			"offsetof(struct %s, %s)" % (s.cname, m), count_off,
			"&%s_desc" % sub.cname if sub is not None else "NULL",
			vr[0], vr[1], nv[0], nv[1], tv[0], tv[1],
			int(f.get("tag", -1)), fv[0], fv[1],
			"true" if dn else "false", c_str(ds) if ds is not None else "NULL",
			di, df))
	if not s.fields:
		h.append("\tchar unused_; /* no fields */")
	h.append("};")
	h.append("extern const struct kp_msg_desc %s_desc;" % s.cname)
	h.append("/* %s_init - every field of *m at its schema default. */" % s.cname)
	h.append("static inline void %s_init(struct %s *m)" % (s.cname, s.cname))
	h.append("{")
	h.append("\tkp_msg_init(&%s_desc, m);" % s.cname)
	h.append("}")
	h.append("/* %s_new - n of them in `a`, each at its defaults; NULL when out of memory. */" % s.cname)
	h.append("static inline struct %s *%s_new(kp_arena *a, size_t n)" % (s.cname, s.cname))
	h.append("{")
	h.append("\treturn (struct %s *)kp_msg_new(&%s_desc, a, n);" % (s.cname, s.cname))
	h.append("}")
	h.append("")
	table = "NULL"
	if rows:
		table = "%s_fields" % s.cname
		c.append("static const struct kp_field_desc %s[] = {" % table)
		c.extend(rows)
		c.append("};")
		c.append("")
	c.append("const struct kp_msg_desc %s_desc = {" % s.cname)
	c.append("\t%s, sizeof(struct %s), %d, %d, %d, %s, %d," % (
		c_str(s.msg["name"] if s.top else s.type_name), s.cname,
		msg_ver[0], msg_ver[1], msg_flex[0], table, len(rows)))
	c.append("};")
	c.append("")


def emit_record_types(msgs, base, h, c):
	"""For schemas of "type": "metadata" (they have an apiKey), what Kafka's
	MetadataRecordTypeGenerator makes: enum kp_<p>_record_type with
	KP_<P>_<SNAKE(NAME)> = apiKey (p = base minus "_gen"), and the table
	kp_<base>_types[apiKey] of struct kp_record_type_info (desc NULL for unused
	keys). Nothing is written when no schema has an apiKey."""
	recs = sorted(((int(m["apiKey"]), m) for m in msgs if m["type"] == "metadata"),
		      key=lambda km: km[0])
	if not recs:
		return
	keys = [k for k, _ in recs]
	if len(set(keys)) != len(keys):
		raise SystemExit("%s: two record schemas share an apiKey" % base)
	p = base[:-len("_gen")] if base.endswith("_gen") else base
	h.append("/* Record types (the schemas' apiKey), named after the record (MetadataRecordType). */")
	h.append("enum kp_%s_record_type {" % p)
	for k, m in recs:
		h.append("\tKP_%s_%s = %d," % (p.upper(), snake(m["name"]).upper(), k))
	h.append("};")
	h.append("/* One more than the highest record type. */")
	h.append("#define KP_%s_RECORD_TYPE_COUNT %d" % (p.upper(), keys[-1] + 1))
	h.append("")
	h.append("#ifndef KP_RECORD_TYPE_INFO_DEFINED")
	h.append("#define KP_RECORD_TYPE_INFO_DEFINED")
	h.append("/* A record type: its apiKey, schema name, versions and descriptor (NULL: no such type). */")
	h.append("struct kp_record_type_info {")
	h.append("\tint16_t api_key;")
	h.append("\tconst char *name;")
	h.append("\tint16_t min_version, max_version;")
	h.append("\tconst struct kp_msg_desc *desc;")
	h.append("};")
	h.append("#endif")
	h.append("/* Indexed by record type, KP_%s_RECORD_TYPE_COUNT entries. */" % p.upper())
	h.append("extern const struct kp_record_type_info kp_%s_types[];" % base)
	h.append("")
	by = dict(recs)
	c.append("")
	c.append("const struct kp_record_type_info kp_%s_types[] = {" % base)
	for k in range(keys[-1] + 1):
		if k not in by:
			c.append("\t{ %d, NULL, -1, -1, NULL }," % k)
			continue
		m = by[k]
		vr = vrange(m["validVersions"])
		c.append("\t{ %d, %s, %d, %d, &kp_%s_desc }," % (k, c_str(m["name"]), vr[0], vr[1], snake(m["name"])))
	c.append("};")


def emit_data_only(src, dst, base):
	"""<base>.h/.c for data schemas (no API keys): structs, descriptors, kp_<base>_msgs."""
	msgs = sorted((load(os.path.join(src, fn)) for fn in sorted(os.listdir(src))
		       if fn.endswith(".json")), key=lambda m: m["name"])
	guard = "KP_PROTOCOL_%s_H" % base.upper()
	banner = ("/*\n * %s - generated by kpgen.py from the Apache Kafka record schemas\n"
		  " * (Apache-2.0); do not edit. Regenerate with `make gen`.\n */\n")
	h = [banner % (base + ".h"), '#include "protocol/codec.h"', "",
	     "#ifndef " + guard, "#define " + guard, ""]
	c = [banner % (base + ".c"), "#include <stddef.h>", "",
	     '#include "protocol/%s.h"' % base, '#include "protocol/codec_internal.h"', ""]
	descs = []
	for msg in msgs:
		top, structs = collect(msg)
		mv = vrange(msg["validVersions"])
		mf = vrange(msg.get("flexibleVersions", "none"))
		h.append("/* %s (%s, versions %s, flexible %s) */" % (
			msg["name"], msg["type"], msg["validVersions"], msg.get("flexibleVersions", "none")))
		for st in order(top, structs):
			emit_struct(st, structs, h, c, mv, mf)
		descs.append(top.cname)
	c.append("const struct kp_msg_desc *const kp_%s_msgs[] = {" % base)
	c.extend("\t&%s_desc," % d for d in descs)
	c.append("};")
	c.append("const size_t kp_%s_msgs_count = sizeof(kp_%s_msgs) / sizeof(kp_%s_msgs[0]);"
		 % (base, base, base))
	h.append("extern const struct kp_msg_desc *const kp_%s_msgs[];" % base)
	h.append("extern const size_t kp_%s_msgs_count;" % base)
	h.append("")
	emit_record_types(msgs, base, h, c)
	h.append("#endif")
	for name, lines in ((base + ".h", h), (base + ".c", c)):
		path = os.path.join(dst, name)
		tmp = path + ".tmp"
		with open(tmp, "w", encoding="utf-8") as f:
			f.write("\n".join(lines).rstrip("\n") + "\n")
		os.replace(tmp, path)
	return 0


def main():
	if len(sys.argv) not in (3, 4):
		sys.stderr.write("usage: kpgen.py <schema-dir> <out-dir> [<base-name>]\n")
		return 2
	src, dst = sys.argv[1], sys.argv[2]
	base = sys.argv[3] if len(sys.argv) == 4 else "messages_gen"
	if base != "messages_gen":
		return emit_data_only(src, dst, base)
	msgs = []
	for fn in sorted(os.listdir(src)):
		if fn.endswith(".json"):
			msgs.append(load(os.path.join(src, fn)))
	msgs.sort(key=lambda m: m["name"])

	banner = ("/*\n * %s - generated by kpgen.py from the Apache Kafka message schemas\n"
		  " * (Apache-2.0); do not edit. Regenerate with `make gen`.\n */\n")
	h = [banner % "messages_gen.h",
	     "/* Normally included from protocol/codec.h, which defines kp_uuid and kp_bytes first. */",
	     '#include "protocol/codec.h"', "",
	     "#ifndef KP_PROTOCOL_MESSAGES_GEN_H", "#define KP_PROTOCOL_MESSAGES_GEN_H", ""]
	c = [banner % "messages_gen.c", "#include <stddef.h>", "",
	     '#include "protocol/codec.h"', '#include "protocol/codec_internal.h"', ""]
	descs = []
	apis = {}
	for msg in msgs:
		top, structs = collect(msg)
		mv = vrange(msg["validVersions"])
		mf = vrange(msg.get("flexibleVersions", "none"))
		h.append("/* %s (%s, versions %s, flexible %s) */" % (
			msg["name"], msg["type"], msg["validVersions"], msg.get("flexibleVersions", "none")))
		for s in order(top, structs):
			emit_struct(s, structs, h, c, mv, mf)
		descs.append(top.cname)
		if msg["type"] in ("request", "response"):
			apis.setdefault(int(msg["apiKey"]), {})[msg["type"]] = (msg, top.cname)

	c.append("const struct kp_msg_desc *const kp_all_msgs[] = {")
	for d in descs:
		c.append("\t&%s_desc," % d)
	c.append("};")
	c.append("const size_t kp_all_msgs_count = sizeof(kp_all_msgs) / sizeof(kp_all_msgs[0]);")
	c.append("")
	c.append("const struct kp_api_info kp_api_table[] = {")
	for key in sorted(apis):
		pair = apis[key]
		if "request" not in pair or "response" not in pair:
			raise SystemExit("api key %d lacks a request or response" % key)
		req, rname = pair["request"]
		_, sname = pair["response"]
		vr = vrange(req["validVersions"])
		fl = vrange(req.get("flexibleVersions", "none"))
		name = req["name"][:-len("Request")]
		c.append("\t{ %d, %s, %d, %d, %d, &%s_desc, &%s_desc }," % (
			key, c_str(name), vr[0], vr[1], fl[0], rname, sname))
	c.append("};")
	c.append("const size_t kp_api_count = sizeof(kp_api_table) / sizeof(kp_api_table[0]);")
	h.append("/* API keys (the schemas' apiKey), named after the API. */")
	h.append("enum kp_api_key {")
	for key in sorted(apis):
		h.append("\tKP_API_%s = %d," % (snake(apis[key]["request"][0]["name"][:-len("Request")]).upper(), key))
	h.append("};")
	h.append("")
	h.append("/* The C types of each API's request and response body. */")
	for key in sorted(apis):
		up = snake(apis[key]["request"][0]["name"][:-len("Request")]).upper()
		h.append("#define KP_API_%s_REQUEST struct %s" % (up, apis[key]["request"][1]))
		h.append("#define KP_API_%s_RESPONSE struct %s" % (up, apis[key]["response"][1]))
	h.append("")
	h.append("#endif")

	for name, lines in (("messages_gen.h", h), ("messages_gen.c", c)):
		path = os.path.join(dst, name)
		tmp = path + ".tmp"
		with open(tmp, "w", encoding="utf-8") as f:
			f.write("\n".join(lines).rstrip("\n") + "\n")
		os.replace(tmp, path)
	return 0


if __name__ == "__main__":
	sys.exit(main())
