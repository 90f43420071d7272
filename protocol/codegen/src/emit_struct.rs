//! Emits one struct: its definition, `Default`, the `Message` impl and, behind the `testing`
//! feature, a random value generator valid for a given version.

use crate::code::{nest, Code};
use crate::emit_codec::{decode_value, encode_value, size_value, FieldCtx, ReaderRef};
use crate::emit_types::{default_expr, field_type, is_default_expr, When};
use crate::model::{Field, Message, Prim, Struct, Ty};

/// `cond && expr`, simplified when `cond` is a constant.
fn and(cond: &str, expr: &str) -> String {
    match cond {
        "true" => expr.to_string(),
        _ => format!("{cond} && {expr}"),
    }
}

pub struct StructEmitter<'a> {
    pub message: &'a Message,
    pub s: &'a Struct,
    pub is_top: bool,
}

impl<'a> StructEmitter<'a> {
    fn flexible(&self) -> When {
        When::of(self.message.flexible, self.s.versions)
    }

    fn ctx(&self, field: &Field, tagged: bool) -> FieldCtx<'a> {
        let compact = if tagged {
            "true".to_string()
        } else if field.never_compact {
            "false".to_string()
        } else {
            self.flexible().expr()
        };
        let within = field
            .versions
            .and_then(|v| v.intersect(self.s.versions))
            .unwrap_or(self.s.versions);
        FieldCtx {
            path: format!("{}.{}", self.s.name, field.spec_name),
            compact,
            nullable: When::of(field.nullable, within).expr(),
            optional: field.is_optional(),
            structs: &self.message.structs,
            flexible: self.message.flexible,
        }
    }

    fn tagged_fields(&self) -> Vec<(u32, When, &'a Field)> {
        let mut tagged: Vec<_> = self
            .s
            .fields
            .iter()
            .filter_map(|f| {
                f.tagged_versions()
                    .map(|(tag, v)| (tag, When::of(Some(v), self.s.versions), f))
            })
            .filter(|(_, when, _)| *when != When::Never)
            .collect();
        tagged.sort_by_key(|(tag, _, _)| *tag);
        tagged
    }

    pub fn emit(&self, code: &mut Code) -> Result<(), String> {
        self.definition(code);
        code.blank();
        self.default_impl(code)?;
        code.blank();
        self.message_impl(code)?;
        code.blank();
        self.random_impl(code)?;
        Ok(())
    }

    fn definition(&self, code: &mut Code) {
        let s = self.s;
        if !s.about.is_empty() {
            code.doc("///", &s.about);
            code.line("///");
        }
        code.line(&format!(
            "/// Versions {}.",
            range_text(s.versions.min, s.versions.max)
        ));
        code.line("#[derive(Debug, Clone, PartialEq)]");
        code.open(&format!("pub struct {} {{", s.name));
        for field in &s.fields {
            if !field.about.is_empty() {
                code.doc("///", &field.about);
                code.line("///");
            }
            code.line(&format!("/// {}", field_facts(field)));
            code.line(&format!("pub {}: {},", field.rust_name, field_type(field)));
        }
        code.line(
            "/// Tagged fields this version of the schema does not know, kept to be re-encoded.",
        );
        code.line("pub unknown_tagged_fields: Vec<RawTaggedField>,");
        code.close("}");
    }

    fn default_impl(&self, code: &mut Code) -> Result<(), String> {
        code.open(&format!("impl Default for {} {{", self.s.name));
        code.open("fn default() -> Self {");
        code.open(&format!("{} {{", self.s.name));
        for field in &self.s.fields {
            code.line(&format!("{}: {},", field.rust_name, default_expr(field)?));
        }
        code.line("unknown_tagged_fields: Vec::new(),");
        code.close("}");
        code.close("}");
        code.close("}");
        Ok(())
    }

    fn message_impl(&self, code: &mut Code) -> Result<(), String> {
        let s = self.s;
        code.open(&format!("impl Message for {} {{", s.name));
        code.line(&format!("const NAME: &'static str = {:?};", s.name));
        code.line(&format!(
            "const VERSIONS: VersionRange = VersionRange {{ min: {}, max: {} }};",
            s.versions.min, s.versions.max
        ));
        code.blank();
        let decode = self.decode_body()?;
        emit_fn(
            code,
            "fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {",
            &decode,
        );
        code.blank();
        let encode = self.encode_body()?;
        emit_fn(
            code,
            "fn encode(&self, writer: &mut Writer, version: i16) -> Result<(), EncodeError> {",
            &encode,
        );
        code.blank();
        let size = self.size_body()?;
        emit_fn(
            code,
            "fn encoded_len(&self, version: i16) -> usize {",
            &size,
        );
        code.close("}");
        Ok(())
    }

    fn decode_body(&self) -> Result<String, String> {
        let s = self.s;
        let mut body = Code::default();
        if self.is_top {
            body.line(&format!("reader.set_context({:?}, version);", s.name));
            body.open("if !Self::VERSIONS.contains(version) {");
            body.line(&format!(
                "return Err(reader.error({:?}, DecodeErrorKind::UnsupportedVersion));",
                s.name
            ));
            body.close("}");
        }
        let main = ReaderRef {
            recv: "reader",
            arg: "reader",
        };
        let mut assigns = Code::default();
        for field in &s.fields {
            let value = decode_value(&field.ty, &self.ctx(field, false), &main);
            match When::of(field.regular_versions(), s.versions) {
                When::Never => {}
                When::Always => assigns.line(&format!("this.{} = {};", field.rust_name, value)),
                When::If(cond) => {
                    assigns.open(&format!("if {cond} {{"));
                    assigns.line(&format!("this.{} = {};", field.rust_name, value));
                    assigns.close("}");
                }
            }
        }
        let flexible = self.flexible();
        if flexible != When::Never {
            let tagged_path = format!("{}._tagged_fields", s.name);
            let sub = ReaderRef {
                recv: "tagged",
                arg: "&mut tagged",
            };
            let mut section = Code::default();
            section.line(&format!(
                "let count = reader.tagged_field_count({tagged_path:?})?;"
            ));
            section.open("for _ in 0..count {");
            let known = self.tagged_fields();
            if known.is_empty() {
                section.line(&format!(
                    "let (tag, tagged) = reader.tagged_field({tagged_path:?})?;"
                ));
                section.line(
                    "this.unknown_tagged_fields.push(RawTaggedField { tag, data: tagged.rest() });",
                );
                section.close("}");
            } else {
                section.line(&format!(
                    "let (tag, mut tagged) = reader.tagged_field({tagged_path:?})?;"
                ));
                section.open("match tag {");
            }
            for (tag, when, field) in &known {
                let ctx = self.ctx(field, true);
                let guard = match when {
                    When::If(cond) => format!(" if {cond}"),
                    _ => String::new(),
                };
                section.open(&format!("{tag}{guard} => {{"));
                section.line(&format!(
                    "this.{} = {};",
                    field.rust_name,
                    decode_value(&field.ty, &ctx, &sub)
                ));
                section.line(&format!("tagged.expect_end({:?})?;", ctx.path));
                section.close("}");
            }
            if !known.is_empty() {
                section.line("_ => this.unknown_tagged_fields.push(RawTaggedField { tag, data: tagged.rest() }),");
                section.close("}");
                section.close("}");
            }
            match flexible {
                When::Always => assigns.line(&section.finish()),
                When::If(cond) => {
                    assigns.open(&format!("if {cond} {{"));
                    assigns.line(&section.finish());
                    assigns.close("}");
                }
                When::Never => {}
            }
        }
        let assigns = assigns.finish();
        if assigns.is_empty() {
            body.line("Ok(Self::default())");
        } else {
            body.line("let mut this = Self::default();");
            body.line(&assigns);
            body.line("Ok(this)");
        }
        Ok(body.finish())
    }

    fn encode_body(&self) -> Result<String, String> {
        let s = self.s;
        let mut body = Code::default();
        if self.is_top {
            body.line(&format!("writer.set_context({:?}, version);", s.name));
            body.open("if !Self::VERSIONS.contains(version) {");
            body.line(&format!(
                "return Err(writer.error({:?}, EncodeErrorKind::UnsupportedVersion));",
                s.name
            ));
            body.close("}");
        }
        for field in &s.fields {
            let ctx = self.ctx(field, false);
            let write = encode_value(&field.ty, &ctx, &format!("self.{}", field.rust_name));
            let absent_check = if field.ignorable {
                None
            } else {
                Some(format!(
                    "if !({}) {{\n    return Err(writer.error({:?}, EncodeErrorKind::FieldNotInVersion));\n}}",
                    is_default_expr(field, &format!("self.{}", field.rust_name))?,
                    ctx.path
                ))
            };
            let present = When::of(field.versions, s.versions);
            let regular = When::of(field.regular_versions(), s.versions);
            match (&present, &regular) {
                (When::Always, When::Always) => body.line(&write),
                (_, When::If(cond)) => {
                    body.open(&format!("if {cond} {{"));
                    body.line(&write);
                    body.close("}");
                }
                _ => {}
            }
            // A field that does not exist at this version must hold its default unless the
            // spec says losing it is fine (Kafka's "ignorable").
            if let Some(check) = absent_check {
                match present {
                    When::Never => body.line(&check),
                    When::If(cond) => {
                        body.open(&format!("if !({cond}) {{"));
                        body.line(&check);
                        body.close("}");
                    }
                    When::Always => {}
                }
            }
        }
        let flexible = self.flexible();
        if flexible != When::Never {
            let mut section = Code::default();
            let tagged = self.tagged_fields();
            section.line(&format!(
                "let {}count = self.unknown_tagged_fields.len();",
                if tagged.is_empty() { "" } else { "mut " }
            ));
            for (_, when, field) in &tagged {
                let access = format!("self.{}", field.rust_name);
                let write = and(
                    &when.expr(),
                    &format!("!({})", is_default_expr(field, &access)?),
                );
                section.line(&format!("let write_{} = {write};", plain(&field.rust_name)));
                section.line(&format!(
                    "count += usize::from(write_{});",
                    plain(&field.rust_name)
                ));
            }
            section.line("writer.uvarint(count as u32);");
            section.line("let mut next_unknown = 0;");
            for (tag, _, field) in &tagged {
                let ctx = self.ctx(field, true);
                let access = format!("self.{}", field.rust_name);
                section.line(&format!(
                    "writer.raw_tagged_fields(&self.unknown_tagged_fields, {tag}, &mut next_unknown);"
                ));
                section.open(&format!("if write_{} {{", plain(&field.rust_name)));
                section.line(&format!("writer.uvarint({tag});"));
                section.line(&format!(
                    "writer.uvarint(({}) as u32);",
                    nest(&size_value(&field.ty, &ctx, &access), 1)
                ));
                section.line(&encode_value(&field.ty, &ctx, &access));
                section.close("}");
            }
            section.line("writer.raw_tagged_fields(&self.unknown_tagged_fields, u64::MAX, &mut next_unknown);");
            match flexible {
                When::Always => body.line(&section.finish()),
                When::If(cond) => {
                    body.open(&format!("if {cond} {{"));
                    body.line(&section.finish());
                    body.close("}");
                }
                When::Never => {}
            }
        }
        body.line("Ok(())");
        Ok(body.finish())
    }

    fn size_body(&self) -> Result<String, String> {
        let s = self.s;
        let mut body = Code::default();
        let mut parts = Code::default();
        for field in &s.fields {
            let size = size_value(
                &field.ty,
                &self.ctx(field, false),
                &format!("self.{}", field.rust_name),
            );
            match When::of(field.regular_versions(), s.versions) {
                When::Never => {}
                When::Always => parts.line(&format!("len += {size};")),
                When::If(cond) => {
                    parts.open(&format!("if {cond} {{"));
                    parts.line(&format!("len += {size};"));
                    parts.close("}");
                }
            }
        }
        let flexible = self.flexible();
        if flexible != When::Never {
            let mut section = Code::default();
            let tagged = self.tagged_fields();
            section.line(&format!(
                "let {}count = self.unknown_tagged_fields.len();",
                if tagged.is_empty() { "" } else { "mut " }
            ));
            section.line("len += wire::raw_tagged_fields_len(&self.unknown_tagged_fields);");
            for (tag, when, field) in &tagged {
                let ctx = self.ctx(field, true);
                let access = format!("self.{}", field.rust_name);
                let write = and(
                    &when.expr(),
                    &format!("!({})", is_default_expr(field, &access)?),
                );
                section.open(&format!("if {write} {{"));
                section.line(&format!(
                    "let size = {};",
                    size_value(&field.ty, &ctx, &access)
                ));
                section.line("count += 1;");
                section.line(&format!(
                    "len += wire::uvarint_len({tag}) + wire::uvarint_len(size as u32) + size;"
                ));
                section.close("}");
            }
            section.line("len += wire::uvarint_len(count as u32);");
            match flexible {
                When::Always => parts.line(&section.finish()),
                When::If(cond) => {
                    parts.open(&format!("if {cond} {{"));
                    parts.line(&section.finish());
                    parts.close("}");
                }
                When::Never => {}
            }
        }
        let parts = parts.finish();
        if parts.is_empty() {
            body.line("0");
        } else {
            body.line("let mut len = 0;");
            body.line(&parts);
            body.line("len");
        }
        Ok(body.finish())
    }

    fn random_impl(&self, code: &mut Code) -> Result<(), String> {
        let s = self.s;
        code.line("#[cfg(feature = \"testing\")]");
        code.open(&format!("impl {} {{", s.name));
        code.line("/// A random value that is valid (encodable) at `version`.");
        let mut body = Code::default();
        let mut assigns = Code::default();
        for field in &s.fields {
            let value = random_value(&field.ty, &self.ctx(field, false), true);
            match When::of(field.versions, s.versions) {
                When::Never => {}
                When::Always => assigns.line(&format!("this.{} = {};", field.rust_name, value)),
                When::If(cond) => {
                    assigns.open(&format!("if {cond} {{"));
                    assigns.line(&format!("this.{} = {};", field.rust_name, value));
                    assigns.close("}");
                }
            }
        }
        let known_tags: Vec<String> = s
            .fields
            .iter()
            .filter_map(|f| f.tagged.map(|(t, _)| t.to_string()))
            .collect();
        let unknown = format!(
            "this.unknown_tagged_fields = crate::testing::random_unknown_tags(rng, &[{}]);",
            known_tags.join(", ")
        );
        match self.flexible() {
            When::Never => {}
            When::Always => assigns.line(&unknown),
            When::If(cond) => {
                assigns.open(&format!("if {cond} {{"));
                assigns.line(&unknown);
                assigns.close("}");
            }
        }
        let assigns = assigns.finish();
        if assigns.is_empty() {
            body.line("Self::default()");
        } else {
            body.line("let mut this = Self::default();");
            body.line(&assigns);
            body.line("this");
        }
        emit_fn(
            code,
            "pub fn random<R: rand::Rng + ?Sized>(rng: &mut R, version: i16) -> Self {",
            &body.finish(),
        );
        code.close("}");
        Ok(())
    }
}

/// Emits a function, prefixing unused parameters with `_` so generated code has no warnings.
fn emit_fn(code: &mut Code, signature: &str, body: &str) {
    let mut signature = signature.to_string();
    for param in ["reader", "writer", "version", "rng"] {
        if signature.contains(&format!("{param}:")) && !uses_identifier(body, param) {
            signature = signature.replace(&format!("{param}:"), &format!("_{param}:"));
        }
    }
    code.open(&signature);
    code.line(body);
    code.close("}");
}

/// Whether `ident` occurs in `code` as an identifier, outside string literals.
fn uses_identifier(code: &str, ident: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut word = String::new();
    // A word right after `.` is a field or method (`this.version`), not the variable.
    let mut after_dot = false;
    let mut previous = ' ';
    for c in code.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            if word.is_empty() {
                after_dot = previous == '.';
            }
            word.push(c);
            previous = c;
            continue;
        }
        if word == ident && !after_dot {
            return true;
        }
        word.clear();
        in_string = c == '"';
        previous = c;
    }
    word == ident && !after_dot
}

fn plain(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

fn range_text(min: i16, max: i16) -> String {
    if max == i16::MAX {
        format!("{min}+")
    } else if min == max {
        min.to_string()
    } else {
        format!("{min}-{max}")
    }
}

fn field_facts(field: &Field) -> String {
    let mut facts = vec![match field.versions {
        Some(v) => format!("Versions {}", range_text(v.min, v.max)),
        None => "Not in any valid version".to_string(),
    }];
    if let Some(n) = field.nullable {
        facts.push(format!("nullable {}", range_text(n.min, n.max)));
    }
    if let Some((tag, v)) = field.tagged {
        facts.push(format!("tagged (tag {tag}) {}", range_text(v.min, v.max)));
    }
    if field.map_key {
        facts.push("map key".into());
    }
    if field.ignorable {
        facts.push("ignorable".into());
    }
    if let Some(entity) = &field.entity_type {
        facts.push(format!("entity: {entity}"));
    }
    format!("{}.", facts.join("; "))
}

fn random_value(ty: &Ty, f: &FieldCtx, top: bool) -> String {
    let value = match ty {
        Ty::Prim(Prim::String) => "crate::testing::random_string(rng)".to_string(),
        Ty::Prim(Prim::Bytes | Prim::Records) => "crate::testing::random_bytes(rng)".to_string(),
        Ty::Prim(Prim::Uuid) => "Uuid(rng.gen())".to_string(),
        Ty::Prim(prim) => format!("rng.gen::<{}>()", crate::emit_types::prim_name(*prim)),
        Ty::Struct(name) => format!("{name}::random(rng, version)"),
        Ty::Array(element) => format!(
            "(0..crate::testing::random_len(rng)).map(|_| {}).collect::<Vec<_>>()",
            random_value(element, f, false)
        ),
    };
    if !top || !f.optional {
        return value;
    }
    match f.nullable.as_str() {
        "false" => format!("Some({value})"),
        cond => format!(
            "if {} {{\n    None\n}} else {{\n    Some({})\n}}",
            and(cond, "rng.gen_ratio(1, 4)"),
            nest(&value, 1)
        ),
    }
}
