//! Rust types, defaults and presence conditions for fields.

use crate::model::{Field, Prim, Struct, Ty};
use crate::spec::Versions;

/// When something (a field, a nullable or flexible range) applies, relative to the versions at
/// which the enclosing struct is ever read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Always,
    Never,
    If(String),
}

impl When {
    pub fn of(range: Option<Versions>, within: Versions) -> When {
        let Some(range) = range.and_then(|r| r.intersect(within)) else {
            return When::Never;
        };
        let mut parts = Vec::new();
        if range.min > within.min {
            parts.push(format!("version >= {}", range.min));
        }
        if range.max < within.max {
            parts.push(format!("version <= {}", range.max));
        }
        if parts.is_empty() {
            When::Always
        } else {
            When::If(parts.join(" && "))
        }
    }

    /// As a boolean expression.
    pub fn expr(&self) -> String {
        match self {
            When::Always => "true".into(),
            When::Never => "false".into(),
            When::If(cond) => cond.clone(),
        }
    }
}

/// The Rust type of a field.
pub fn field_type(field: &Field) -> String {
    let base = ty_name(&field.ty);
    if field.is_optional() {
        format!("Option<{base}>")
    } else {
        base
    }
}

pub fn ty_name(ty: &Ty) -> String {
    match ty {
        Ty::Prim(prim) => prim_name(*prim).into(),
        Ty::Struct(name) => name.clone(),
        Ty::Array(element) => format!("Vec<{}>", ty_name(element)),
    }
}

pub fn prim_name(prim: Prim) -> &'static str {
    match prim {
        Prim::Bool => "bool",
        Prim::Int8 => "i8",
        Prim::Int16 => "i16",
        Prim::Uint16 => "u16",
        Prim::Int32 => "i32",
        Prim::Uint32 => "u32",
        Prim::Int64 => "i64",
        Prim::Float64 => "f64",
        Prim::String => "String",
        Prim::Bytes | Prim::Records => "Bytes",
        Prim::Uuid => "Uuid",
    }
}

/// Whether the spec's default for this field is null.
fn default_is_null(field: &Field) -> bool {
    field.default.as_deref() == Some("null")
}

fn int_literal(text: &str, ty: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(hex, 16)
    } else {
        digits.parse::<i128>()
    }
    .map_err(|e| format!("bad integer default {text:?}: {e}"))?;
    let value = if negative { -magnitude } else { magnitude };
    let (min, max): (i128, i128) = match ty {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    if value < min || value > max {
        return Err(format!("default {text:?} does not fit {ty}"));
    }
    Ok(value.to_string())
}

/// The default value of a field as a Rust expression, following Kafka's rules: numbers 0,
/// strings and bytes empty (even when nullable), records null, arrays empty, unless the spec
/// gives a default ("null" included).
pub fn default_expr(field: &Field) -> Result<String, String> {
    let optional = field.is_optional();
    let wrap = |inner: String| {
        if optional {
            format!("Some({inner})")
        } else {
            inner
        }
    };
    if optional && default_is_null(field) {
        return Ok("None".into());
    }
    let given = field.default.as_deref().filter(|d| !d.is_empty());
    Ok(match &field.ty {
        Ty::Prim(Prim::Bool) => match given {
            None => "false".into(),
            Some(d) if d.eq_ignore_ascii_case("true") => "true".into(),
            Some(d) if d.eq_ignore_ascii_case("false") => "false".into(),
            Some(d) => return Err(format!("bad bool default {d:?}")),
        },
        Ty::Prim(Prim::Float64) => match given {
            None => "0.0".into(),
            Some(d) => format!(
                "{:?}",
                d.parse::<f64>()
                    .map_err(|e| format!("bad float default: {e}"))?
            ),
        },
        Ty::Prim(Prim::String) => wrap(match field.default.as_deref() {
            None | Some("") => "String::new()".into(),
            Some(d) => format!("String::from({d:?})"),
        }),
        Ty::Prim(Prim::Bytes) => wrap("Bytes::new()".into()),
        Ty::Prim(Prim::Records) => "None".into(),
        Ty::Prim(Prim::Uuid) => "Uuid::ZERO".into(),
        Ty::Prim(prim) => int_literal(given.unwrap_or("0"), prim_name(*prim))?,
        Ty::Struct(name) => wrap(format!("{name}::default()")),
        Ty::Array(_) => wrap("Vec::new()".into()),
    })
}

/// A boolean expression: is `access` (a place of the field's type) equal to the default?
pub fn is_default_expr(field: &Field, access: &str) -> Result<String, String> {
    let default = default_expr(field)?;
    let optional = field.is_optional();
    if default == "None" {
        return Ok(format!("{access}.is_none()"));
    }
    Ok(match &field.ty {
        Ty::Prim(Prim::String) if optional => {
            let inner = field.default.as_deref().unwrap_or("");
            format!("{access}.as_deref() == Some({inner:?})")
        }
        Ty::Prim(Prim::String) => match field.default.as_deref() {
            None | Some("") => format!("{access}.is_empty()"),
            Some(d) => format!("{access} == {d:?}"),
        },
        Ty::Prim(Prim::Bytes) | Ty::Array(_) if optional => {
            format!("{access}.as_ref().is_some_and(|v| v.is_empty())")
        }
        Ty::Prim(Prim::Bytes) | Ty::Array(_) => format!("{access}.is_empty()"),
        _ => format!("{access} == {default}"),
    })
}

/// The least number of bytes an element of this struct can occupy on the wire at any of its
/// versions; bounds array counts read from the wire before allocation.
pub fn min_struct_size(structs: &[Struct], name: &str, flexible: Option<Versions>) -> usize {
    let Some(s) = structs.iter().find(|s| s.name == name) else {
        return 1;
    };
    let mut least = usize::MAX;
    for version in s.versions.min..=s.versions.max.min(s.versions.min.saturating_add(200)) {
        let is_flexible = flexible.is_some_and(|f| f.contains(version));
        let mut size = usize::from(is_flexible);
        for field in &s.fields {
            if field
                .regular_versions()
                .is_some_and(|v| v.contains(version))
            {
                size += min_type_size(
                    structs,
                    &field.ty,
                    is_flexible && !field.never_compact,
                    field,
                    version,
                    flexible,
                );
            }
        }
        least = least.min(size);
    }
    least.max(1)
}

fn min_type_size(
    structs: &[Struct],
    ty: &Ty,
    compact: bool,
    field: &Field,
    version: i16,
    flexible: Option<Versions>,
) -> usize {
    match ty {
        Ty::Prim(Prim::String) if compact => 1,
        Ty::Prim(Prim::String) => 2,
        Ty::Prim(Prim::Bytes | Prim::Records) | Ty::Array(_) if compact => 1,
        Ty::Prim(Prim::Bytes | Prim::Records) | Ty::Array(_) => 4,
        Ty::Prim(prim) => prim.fixed_size().unwrap_or(1),
        Ty::Struct(_) if field.nullable.is_some_and(|n| n.contains(version)) => 1,
        Ty::Struct(name) => min_struct_size(structs, name, flexible),
    }
}

/// Minimum encoded size of one array element.
pub fn min_element_size(
    structs: &[Struct],
    element: &Ty,
    compact: bool,
    flexible: Option<Versions>,
) -> usize {
    match element {
        Ty::Prim(Prim::String) => {
            if compact {
                1
            } else {
                2
            }
        }
        Ty::Prim(Prim::Bytes | Prim::Records) | Ty::Array(_) => {
            if compact {
                1
            } else {
                4
            }
        }
        Ty::Prim(prim) => prim.fixed_size().unwrap_or(1),
        Ty::Struct(name) => min_struct_size(structs, name, flexible),
    }
}
