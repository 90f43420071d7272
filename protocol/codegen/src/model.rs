//! The specs resolved into what the emitter needs: every struct of a message (the message
//! itself, nested structs and common structs) with typed fields and version ranges clipped to
//! the message's valid versions.

use std::collections::BTreeMap;

use crate::spec::{FieldSpec, MessageSpec, Versions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    Bool,
    Int8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Float64,
    String,
    Bytes,
    Records,
    Uuid,
}

impl Prim {
    fn parse(name: &str) -> Option<Prim> {
        Some(match name {
            "bool" => Prim::Bool,
            "int8" => Prim::Int8,
            "int16" => Prim::Int16,
            "uint16" => Prim::Uint16,
            "int32" => Prim::Int32,
            "uint32" => Prim::Uint32,
            "int64" => Prim::Int64,
            "float64" => Prim::Float64,
            "string" => Prim::String,
            "bytes" => Prim::Bytes,
            "records" => Prim::Records,
            "uuid" => Prim::Uuid,
            _ => return None,
        })
    }

    /// Encoded size of a fixed-size type.
    pub fn fixed_size(self) -> Option<usize> {
        Some(match self {
            Prim::Bool | Prim::Int8 => 1,
            Prim::Int16 | Prim::Uint16 => 2,
            Prim::Int32 | Prim::Uint32 => 4,
            Prim::Int64 | Prim::Float64 => 8,
            Prim::Uuid => 16,
            Prim::String | Prim::Bytes | Prim::Records => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Prim(Prim),
    Struct(String),
    Array(Box<Ty>),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub spec_name: String,
    pub rust_name: String,
    pub ty: Ty,
    /// Versions the field exists in, clipped to the message's valid versions (None: never).
    pub versions: Option<Versions>,
    /// Versions in which null is allowed (within `versions`).
    pub nullable: Option<Versions>,
    /// Tag and the versions in which the field is sent as a tagged field.
    pub tagged: Option<(u32, Versions)>,
    pub default: Option<String>,
    pub ignorable: bool,
    pub map_key: bool,
    pub never_compact: bool,
    pub about: String,
    pub entity_type: Option<String>,
}

impl Field {
    /// Whether the Rust type is an `Option` (nullable in any version; records always are).
    pub fn is_optional(&self) -> bool {
        self.nullable.is_some() || self.ty == Ty::Prim(Prim::Records)
    }

    /// Versions in which the field is a regular (untagged) field.
    pub fn regular_versions(&self) -> Option<Versions> {
        let versions = self.versions?;
        match self.tagged {
            None => Some(versions),
            Some((_, tagged)) if tagged.min > versions.min => Some(Versions {
                min: versions.min,
                max: versions.max.min(tagged.min - 1),
            }),
            Some(_) => None,
        }
    }

    pub fn tagged_versions(&self) -> Option<(u32, Versions)> {
        let (tag, tagged) = self.tagged?;
        Some((tag, tagged.intersect(self.versions?)?))
    }
}

#[derive(Debug, Clone)]
pub struct Struct {
    pub name: String,
    /// Versions in which this struct can be read, clipped to the message's.
    pub versions: Versions,
    pub fields: Vec<Field>,
    pub about: String,
}

#[derive(Debug)]
pub struct Message {
    pub name: String,
    pub kind: String,
    pub api_key: Option<i16>,
    pub valid: Versions,
    pub flexible: Option<Versions>,
    pub deprecated: Option<Versions>,
    pub latest_version_unstable: bool,
    /// The message struct first, then nested and common structs in definition order.
    pub structs: Vec<Struct>,
}

impl Message {
    pub fn module_name(&self) -> String {
        snake_case(&self.name)
    }
}

pub fn resolve(spec: &MessageSpec) -> Result<Message, String> {
    let valid = Versions::parse(&spec.valid_versions)?
        .ok_or_else(|| format!("{}: no valid versions", spec.name))?;
    let flexible = Versions::parse(&spec.flexible_versions)?;
    let deprecated = match &spec.deprecated_versions {
        Some(text) => Versions::parse(text)?,
        None => None,
    };
    let common: BTreeMap<&str, _> = spec
        .common_structs
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let mut resolver = Resolver {
        message: &spec.name,
        valid,
        common,
        structs: Vec::new(),
    };
    let fields = resolver.fields(&spec.fields, valid)?;
    let mut structs = vec![Struct {
        name: spec.name.clone(),
        versions: valid,
        fields,
        about: String::new(),
    }];
    structs.append(&mut resolver.structs);
    for name in structs.iter().map(|s| &s.name) {
        if RESERVED_TYPE_NAMES.contains(&name.as_str()) {
            return Err(format!(
                "{}: struct name {name} clashes with a Rust prelude type",
                spec.name
            ));
        }
    }
    Ok(Message {
        name: spec.name.clone(),
        kind: spec.kind.clone(),
        api_key: spec.api_key,
        valid,
        flexible,
        deprecated,
        latest_version_unstable: spec.latest_version_unstable,
        structs,
    })
}

const RESERVED_TYPE_NAMES: &[&str] = &[
    "Option", "Result", "Vec", "String", "Box", "Default", "Self",
];

struct Resolver<'a> {
    message: &'a str,
    valid: Versions,
    common: BTreeMap<&'a str, &'a crate::spec::CommonStructSpec>,
    structs: Vec<Struct>,
}

impl<'a> Resolver<'a> {
    fn fields(&mut self, specs: &'a [FieldSpec], parent: Versions) -> Result<Vec<Field>, String> {
        specs.iter().map(|f| self.field(f, parent)).collect()
    }

    fn field(&mut self, spec: &'a FieldSpec, parent: Versions) -> Result<Field, String> {
        let context = |e: String| format!("{}.{}: {e}", self.message, spec.name);
        let declared = Versions::parse(&spec.versions).map_err(context)?;
        let versions = declared
            .and_then(|v| v.intersect(parent))
            .and_then(|v| v.intersect(self.valid));
        let nullable = match &spec.nullable_versions {
            Some(text) => Versions::parse(text).map_err(context)?,
            None => None,
        };
        let nullable = match (nullable, versions) {
            (Some(n), Some(v)) => n.intersect(v),
            _ => None,
        };
        let tagged = match (&spec.tag, &spec.tagged_versions) {
            (Some(tag), Some(text)) => {
                let tag = match tag {
                    serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                    serde_json::Value::String(s) => s.trim().parse::<u32>().ok(),
                    _ => None,
                }
                .ok_or_else(|| context(format!("bad tag {tag}")))?;
                Versions::parse(text).map_err(context)?.map(|v| (tag, v))
            }
            (None, None) => None,
            _ => return Err(context("tag and taggedVersions must come together".into())),
        };
        let never_compact = match &spec.flexible_versions {
            Some(text) => Versions::parse(text).map_err(context)?.is_none(),
            None => false,
        };
        let ty = self.ty(spec, versions.unwrap_or(parent))?;
        let default = spec.default.as_ref().map(|value| match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        Ok(Field {
            spec_name: spec.name.clone(),
            rust_name: field_ident(&spec.name),
            ty,
            versions,
            nullable,
            tagged,
            default,
            ignorable: spec.ignorable,
            map_key: spec.map_key,
            never_compact,
            about: spec.about.clone().unwrap_or_default(),
            entity_type: spec.entity_type.clone(),
        })
    }

    fn ty(&mut self, spec: &'a FieldSpec, versions: Versions) -> Result<Ty, String> {
        let (is_array, base) = match spec.ty.strip_prefix("[]") {
            Some(element) => (true, element),
            None => (false, spec.ty.as_str()),
        };
        let element = match Prim::parse(base) {
            Some(prim) => Ty::Prim(prim),
            None => {
                self.define_struct(base, spec, versions)?;
                Ty::Struct(base.to_string())
            }
        };
        Ok(if is_array {
            Ty::Array(Box::new(element))
        } else {
            element
        })
    }

    /// Defines a nested struct (fields given inline) or a common struct (first use).
    fn define_struct(
        &mut self,
        name: &str,
        spec: &'a FieldSpec,
        versions: Versions,
    ) -> Result<(), String> {
        if let Some(fields) = &spec.fields {
            if self.structs.iter().any(|s| s.name == name) {
                return Err(format!("{}: struct {name} defined twice", self.message));
            }
            let index = self.structs.len();
            self.structs.push(Struct {
                name: name.to_string(),
                versions,
                fields: Vec::new(),
                about: spec.about.clone().unwrap_or_default(),
            });
            let resolved = self.fields(fields, versions)?;
            self.structs[index].fields = resolved;
            return Ok(());
        }
        if self.structs.iter().any(|s| s.name == name) {
            return Ok(());
        }
        let common = *self
            .common
            .get(name)
            .ok_or_else(|| format!("{}: unknown struct type {name}", self.message))?;
        let common_versions = Versions::parse(&common.versions)?.unwrap_or(Versions::ALL);
        let struct_versions = common_versions.intersect(self.valid).unwrap_or(self.valid);
        let index = self.structs.len();
        self.structs.push(Struct {
            name: name.to_string(),
            versions: struct_versions,
            fields: Vec::new(),
            about: String::new(),
        });
        let resolved = self.fields(&common.fields, struct_versions)?;
        self.structs[index].fields = resolved;
        Ok(())
    }
}

/// `ThrottleTimeMs` -> `throttle_time_ms`, `KRaftVersion` -> `k_raft_version`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_is_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn field_ident(name: &str) -> String {
    let snake = snake_case(name);
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
        "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
        "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
        "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
    ];
    if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}
