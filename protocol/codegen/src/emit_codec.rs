//! Emits the field-level pieces of `decode`, `encode` and `encoded_len`.
//!
//! Each function returns Rust source for one field value of a given type. The conventions the
//! snippets rely on: the reader is `reader` (or a tagged-field sub-reader), the writer is
//! `writer`, the version is `version`, and `compact`/`nullable` are boolean expressions already
//! specialised for the field.

use crate::code::nest;
use crate::emit_types::min_element_size;
use crate::model::{Prim, Struct, Ty};
use crate::spec::Versions;

/// What the snippets of one field need to know.
pub struct FieldCtx<'a> {
    /// `Struct.Field`, named in errors.
    pub path: String,
    pub compact: String,
    pub nullable: String,
    pub optional: bool,
    pub structs: &'a [Struct],
    pub flexible: Option<Versions>,
}

/// A reader as used in a snippet: `recv.method()` and `Type::decode(arg, version)`.
pub struct ReaderRef<'a> {
    pub recv: &'a str,
    pub arg: &'a str,
}

fn prim_read(prim: Prim) -> &'static str {
    match prim {
        Prim::Bool => "bool",
        Prim::Int8 => "i8",
        Prim::Int16 => "i16",
        Prim::Uint16 => "u16",
        Prim::Int32 => "i32",
        Prim::Uint32 => "u32",
        Prim::Int64 => "i64",
        Prim::Float64 => "f64",
        Prim::Uuid => "uuid",
        Prim::String => "string",
        Prim::Bytes => "bytes",
        Prim::Records => "records",
    }
}

pub fn decode_value(ty: &Ty, f: &FieldCtx, r: &ReaderRef) -> String {
    let (path, compact, nullable, recv) = (&f.path, &f.compact, &f.nullable, r.recv);
    match ty {
        Ty::Prim(Prim::String) if f.optional => format!("{recv}.nullable_string({path:?}, {compact}, {nullable})?"),
        Ty::Prim(Prim::Bytes) if f.optional => format!("{recv}.nullable_bytes({path:?}, {compact}, {nullable})?"),
        Ty::Prim(Prim::Records) => format!("{recv}.records({path:?}, {compact}, {nullable})?"),
        Ty::Prim(Prim::String | Prim::Bytes) => {
            format!("{recv}.{}({path:?}, {compact})?", prim_read(ty_prim(ty)))
        }
        Ty::Prim(prim) => format!("{recv}.{}({path:?})?", prim_read(*prim)),
        Ty::Struct(name) if f.optional => match nullable.as_str() {
            "false" => format!("Some({name}::decode({}, version)?)", r.arg),
            _ => format!(
                "if {nullable} && {recv}.i8({path:?})? < 0 {{\n    None\n}} else {{\n    Some({name}::decode({}, version)?)\n}}",
                r.arg
            ),
        },
        Ty::Struct(name) => format!("{name}::decode({}, version)?", r.arg),
        Ty::Array(element) => {
            let min = min_element_size(f.structs, element, true, f.flexible);
            let item = decode_element(element, f, r);
            let body = format!(
                "let mut items = Vec::with_capacity(len.min(ARRAY_PREALLOC_ELEMENTS_MAX));\nfor _ in 0..len {{\n    items.push({});\n}}",
                nest(&item, 1)
            );
            if f.optional {
                format!(
                    "match {recv}.nullable_array_len({path:?}, {compact}, {nullable}, {min})? {{\n    None => None,\n    Some(len) => {{\n        {}\n        Some(items)\n    }}\n}}",
                    nest(&body, 2)
                )
            } else {
                format!("{{\n    let len = {recv}.array_len({path:?}, {compact}, {min})?;\n    {}\n    items\n}}", nest(&body, 1))
            }
        }
    }
}

fn ty_prim(ty: &Ty) -> Prim {
    match ty {
        Ty::Prim(prim) => *prim,
        _ => Prim::Bytes,
    }
}

fn decode_element(element: &Ty, f: &FieldCtx, r: &ReaderRef) -> String {
    let (path, compact, recv) = (&f.path, &f.compact, r.recv);
    match element {
        Ty::Prim(prim @ (Prim::String | Prim::Bytes | Prim::Records)) => {
            let method = if *prim == Prim::String {
                "string"
            } else {
                "bytes"
            };
            format!("{recv}.{method}({path:?}, {compact})?")
        }
        Ty::Prim(prim) => format!("{recv}.{}({path:?})?", prim_read(*prim)),
        Ty::Struct(name) => format!("{name}::decode({}, version)?", r.arg),
        Ty::Array(_) => {
            unreachable!("nested arrays do not occur in Kafka specs (checked in validate)")
        }
    }
}

/// Statements that write `access` (a place of the field's type).
pub fn encode_value(ty: &Ty, f: &FieldCtx, access: &str) -> String {
    let (path, compact, nullable) = (&f.path, &f.compact, &f.nullable);
    match ty {
        Ty::Prim(Prim::String) if f.optional => {
            format!(
                "writer.nullable_string({access}.as_deref(), {compact}, {nullable}, {path:?})?;"
            )
        }
        Ty::Prim(Prim::Bytes) if f.optional => {
            format!("writer.nullable_bytes({access}.as_ref(), {compact}, {nullable}, {path:?})?;")
        }
        Ty::Prim(Prim::Records) => {
            format!("writer.records({access}.as_ref(), {compact}, {nullable}, {path:?})?;")
        }
        Ty::Prim(Prim::String) => format!("writer.string(&{access}, {compact}, {path:?})?;"),
        Ty::Prim(Prim::Bytes) => format!("writer.bytes(&{access}, {compact}, {path:?})?;"),
        Ty::Prim(Prim::Uuid) => format!("writer.uuid(&{access});"),
        Ty::Prim(prim) => format!("writer.{}({access});", prim_read(*prim)),
        Ty::Struct(_) if f.optional => {
            let none_arm = match nullable.as_str() {
                "false" => format!("None => return Err(writer.error({path:?}, EncodeErrorKind::NullNotAllowed)),"),
                "true" => "None => writer.i8(-1),".to_string(),
                cond => format!(
                    "None if {cond} => writer.i8(-1),\nNone => return Err(writer.error({path:?}, EncodeErrorKind::NullNotAllowed)),"
                ),
            };
            let marker = match nullable.as_str() {
                "false" => String::new(),
                "true" => "writer.i8(1);\n".to_string(),
                cond => format!("if {cond} {{\n    writer.i8(1);\n}}\n"),
            };
            format!(
                "match &{access} {{\n    {}\n    Some(value) => {{\n        {}value.encode(writer, version)?;\n    }}\n}}",
                nest(&none_arm, 1),
                nest(&marker, 2)
            )
        }
        Ty::Struct(_) => format!("{access}.encode(writer, version)?;"),
        Ty::Array(element) => {
            let item = encode_element(element, f);
            if f.optional {
                format!(
                    "match &{access} {{\n    None => writer.nullable_array_len(None, {compact}, {nullable}, {path:?})?,\n    Some(items) => {{\n        writer.array_len(items.len(), {compact}, {path:?})?;\n        for item in items {{\n            {}\n        }}\n    }}\n}}",
                    nest(&item, 3)
                )
            } else {
                format!(
                    "writer.array_len({access}.len(), {compact}, {path:?})?;\nfor item in &{access} {{\n    {}\n}}",
                    nest(&item, 1)
                )
            }
        }
    }
}

fn encode_element(element: &Ty, f: &FieldCtx) -> String {
    let (path, compact) = (&f.path, &f.compact);
    match element {
        Ty::Prim(Prim::String) => format!("writer.string(item, {compact}, {path:?})?;"),
        Ty::Prim(Prim::Bytes | Prim::Records) => {
            format!("writer.bytes(item, {compact}, {path:?})?;")
        }
        Ty::Prim(Prim::Uuid) => "writer.uuid(item);".into(),
        Ty::Prim(prim) => format!("writer.{}(*item);", prim_read(*prim)),
        Ty::Struct(_) => "item.encode(writer, version)?;".into(),
        Ty::Array(_) => {
            unreachable!("nested arrays do not occur in Kafka specs (checked in validate)")
        }
    }
}

/// An expression: the encoded size of `access`.
pub fn size_value(ty: &Ty, f: &FieldCtx, access: &str) -> String {
    let (compact, nullable) = (&f.compact, &f.nullable);
    match ty {
        Ty::Prim(prim @ (Prim::String | Prim::Bytes | Prim::Records)) => {
            let short = *prim == Prim::String;
            if f.optional {
                format!("{access}.as_ref().map_or(wire::length_prefix_len(None, {compact}, {short}), |v| wire::length_prefix_len(Some(v.len()), {compact}, {short}) + v.len())")
            } else {
                format!("wire::length_prefix_len(Some({access}.len()), {compact}, {short}) + {access}.len()")
            }
        }
        Ty::Prim(prim) => prim.fixed_size().unwrap_or(0).to_string(),
        Ty::Struct(_) if f.optional => {
            format!(
                "{access}.as_ref().map_or(1, |v| usize::from({nullable}) + v.encoded_len(version))"
            )
        }
        Ty::Struct(_) => format!("{access}.encoded_len(version)"),
        Ty::Array(element) => {
            let elements = |items: &str| {
                match element.as_ref() {
                Ty::Prim(prim) if prim.fixed_size().is_some() => {
                    format!("{items}.len() * {}", prim.fixed_size().unwrap_or(0))
                }
                Ty::Prim(Prim::String) => format!(
                    "{items}.iter().map(|item| wire::length_prefix_len(Some(item.len()), {compact}, true) + item.len()).sum::<usize>()"
                ),
                Ty::Prim(_) => format!(
                    "{items}.iter().map(|item| wire::length_prefix_len(Some(item.len()), {compact}, false) + item.len()).sum::<usize>()"
                ),
                _ => format!("{items}.iter().map(|item| item.encoded_len(version)).sum::<usize>()"),
            }
            };
            if f.optional {
                format!(
                    "{access}.as_ref().map_or(wire::length_prefix_len(None, {compact}, false), |items| wire::length_prefix_len(Some(items.len()), {compact}, false) + {})",
                    elements("items")
                )
            } else {
                format!(
                    "wire::length_prefix_len(Some({access}.len()), {compact}, false) + {}",
                    elements(access)
                )
            }
        }
    }
}
