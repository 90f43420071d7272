//! IncrementalAlterConfigs' operations (SET, DELETE, APPEND, SUBTRACT) on topic and broker
//! overrides, each value validated against its definition.

use std::collections::BTreeMap;

use pinlog_protocol::error_code::ErrorCode;

use super::{Outcome, OP_APPEND, OP_DELETE, OP_SET, OP_SUBTRACT};
use crate::metadata::configs;

/// Applies SET/DELETE/APPEND/SUBTRACT operations to topic overrides, validating each value.
pub(super) fn resolve_topic_configs(
    mut configs: BTreeMap<String, String>,
    ops: impl Iterator<Item = (String, i8, Option<String>)>,
) -> Result<BTreeMap<String, String>, Outcome> {
    for (name, op, value) in ops {
        let Some(def) = configs::topic_config_def(&name) else {
            return Err(Outcome::error(
                ErrorCode::InvalidConfig,
                format!("unknown topic config '{name}'"),
            ));
        };
        apply_op(&mut configs, def, &name, op, value)?;
    }
    Ok(configs)
}

/// Broker configs that can change at run time: the `log.*` defaults of topic settings.
pub(super) fn resolve_broker_configs(
    mut configs: BTreeMap<String, String>,
    ops: impl Iterator<Item = (String, i8, Option<String>)>,
) -> Result<BTreeMap<String, String>, Outcome> {
    for (name, op, value) in ops {
        let Some(def) = configs::topic_config_def_by_broker_name(&name) else {
            return Err(Outcome::error(
                ErrorCode::InvalidConfig,
                format!("broker config '{name}' cannot be changed at run time"),
            ));
        };
        apply_op(&mut configs, def, &name, op, value)?;
    }
    Ok(configs)
}

fn apply_op(
    configs: &mut BTreeMap<String, String>,
    def: &configs::TopicConfigDef,
    name: &str,
    op: i8,
    value: Option<String>,
) -> Result<(), Outcome> {
    let invalid = |message: String| Outcome::error(ErrorCode::InvalidConfig, message);
    let new_value = match op {
        OP_SET => Some(value.ok_or_else(|| invalid(format!("{name}: SET needs a value")))?),
        OP_DELETE => None,
        OP_APPEND | OP_SUBTRACT if def.config_type == configs::ConfigType::List => {
            let value =
                value.ok_or_else(|| invalid(format!("{name}: a list operation needs a value")))?;
            let current = configs
                .get(name)
                .cloned()
                .unwrap_or_else(|| "delete".into());
            let mut items: Vec<String> = current
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if op == OP_APPEND && !items.iter().any(|i| i == item) {
                    items.push(item.to_string());
                } else if op == OP_SUBTRACT {
                    items.retain(|i| i != item);
                }
            }
            Some(items.join(","))
        }
        OP_APPEND | OP_SUBTRACT => {
            return Err(invalid(format!(
                "{name} is not a list; APPEND and SUBTRACT do not apply"
            )))
        }
        other => return Err(invalid(format!("unknown operation {other}"))),
    };
    match new_value {
        Some(value) => {
            configs::validate(def, &value).map_err(invalid)?;
            configs.insert(name.to_string(), value);
        }
        None => {
            configs.remove(name);
        }
    }
    Ok(())
}
