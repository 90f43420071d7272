//! Apache Kafka's JSON message specs, as read from disk.
//!
//! The files are JSON with `//` comments; [`strip_comments`] removes them (outside strings)
//! before parsing. The schema language is described in the specs' README.md.

use std::path::Path;

use serde::Deserialize;

/// One JSON spec file: a request, response, header or data message.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSpec {
    pub api_key: Option<i16>,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub valid_versions: String,
    #[serde(default)]
    pub deprecated_versions: Option<String>,
    pub flexible_versions: String,
    #[serde(default)]
    pub latest_version_unstable: bool,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    #[serde(default)]
    pub common_structs: Vec<CommonStructSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonStructSpec {
    pub name: String,
    pub versions: String,
    pub fields: Vec<FieldSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub versions: String,
    #[serde(default)]
    pub nullable_versions: Option<String>,
    #[serde(default)]
    pub tagged_versions: Option<String>,
    /// A number, or a string holding one (both occur in the specs).
    #[serde(default)]
    pub tag: Option<serde_json::Value>,
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    #[serde(default)]
    pub ignorable: bool,
    #[serde(default)]
    pub map_key: bool,
    #[serde(default)]
    pub entity_type: Option<String>,
    #[serde(default)]
    pub about: Option<String>,
    /// A per-field override, used by RequestHeader.ClientId ("none": never compact).
    #[serde(default)]
    pub flexible_versions: Option<String>,
    #[serde(default)]
    pub zero_copy: bool,
    #[serde(default)]
    pub fields: Option<Vec<FieldSpec>>,
}

/// An inclusive version range; `max` is `i16::MAX` for an open range ("3+").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub min: i16,
    pub max: i16,
}

impl Versions {
    pub const ALL: Versions = Versions {
        min: 0,
        max: i16::MAX,
    };

    /// Parses "3+", "0-7", "5" or "none" (`None`).
    pub fn parse(text: &str) -> Result<Option<Versions>, String> {
        let text = text.trim();
        if text == "none" {
            return Ok(None);
        }
        let number = |s: &str| {
            s.trim()
                .parse::<i16>()
                .map_err(|e| format!("bad version {text:?}: {e}"))
        };
        let range = if let Some(start) = text.strip_suffix('+') {
            Versions {
                min: number(start)?,
                max: i16::MAX,
            }
        } else if let Some((a, b)) = text.split_once('-') {
            Versions {
                min: number(a)?,
                max: number(b)?,
            }
        } else {
            let v = number(text)?;
            Versions { min: v, max: v }
        };
        if range.min > range.max {
            return Err(format!("empty version range {text:?}"));
        }
        Ok(Some(range))
    }

    pub fn intersect(self, other: Versions) -> Option<Versions> {
        let min = self.min.max(other.min);
        let max = self.max.min(other.max);
        (min <= max).then_some(Versions { min, max })
    }

    pub fn contains(self, version: i16) -> bool {
        version >= self.min && version <= self.max
    }

    pub fn covers(self, other: Versions) -> bool {
        self.min <= other.min && self.max >= other.max
    }
}

/// Reads every `*.json` spec in `dir`, sorted by file name so output is deterministic.
pub fn read_specs(dir: &Path) -> Result<Vec<MessageSpec>, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            // Through a Value first: some specs repeat a key, which Kafka's parser (Jackson)
            // accepts with the last value winning, as a Value map does.
            let value: serde_json::Value = serde_json::from_str(&strip_comments(&text))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_value(value).map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect()
}

/// Removes `//` comments that are not inside JSON strings.
pub fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if c == '/' && chars.peek() == Some(&'/') {
            for skipped in chars.by_ref() {
                if skipped == '\n' {
                    out.push('\n');
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
