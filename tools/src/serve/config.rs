//! Loading [`BrokerConfig`]: embedded defaults, then the TOML file, then the flags.

use std::path::{Path, PathBuf};

use pinlog_engine::limits::SEGMENT_BYTES_JITTER_PERCENT_MAX;
use pinlog_shards::BrokerConfig;

use super::ServeArgs;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `location` is ` at line L, column C` when the parser knows where; `message` is one line.
    #[error("config file {}{location}: {message}", path.display())]
    Parse {
        path: PathBuf,
        location: String,
        message: String,
    },
}

/// The broker configuration `pinlog serve` runs with.
pub fn broker_config(args: &ServeArgs) -> Result<BrokerConfig, ConfigError> {
    let mut config = match &args.config {
        Some(path) => from_file(path)?,
        None => BrokerConfig::default(),
    };
    args.override_config(&mut config);
    Ok(config)
}

pub fn from_file(path: &Path) -> Result<BrokerConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_toml(&text, path)
}

/// Parses TOML text; keys it leaves out keep their defaults, and unknown keys are an error
/// (BrokerConfig denies them) so that a misspelt key never silently leaves a default in place.
pub fn from_toml(text: &str, path: &Path) -> Result<BrokerConfig, ConfigError> {
    let config: BrokerConfig = toml::from_str(text).map_err(|error| ConfigError::Parse {
        path: path.to_path_buf(),
        location: error
            .span()
            .map(|span| {
                let (line, column) = line_and_column(text, span.start);
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default(),
        message: error.message().trim().replace('\n', " "),
    })?;
    let jitter = config.log.segment_bytes_jitter_percent;
    if jitter > SEGMENT_BYTES_JITTER_PERCENT_MAX {
        return Err(ConfigError::Parse {
            path: path.to_path_buf(),
            location: String::new(),
            message: format!(
                "[log] segment_bytes_jitter_percent is {jitter}; at most {SEGMENT_BYTES_JITTER_PERCENT_MAX}"
            ),
        });
    }
    Ok(config)
}

/// 1-based line and column (in characters) of a byte offset into `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use clap::Parser;
    use pinlog_engine::IoMode;
    use pinlog_shards::BrokerConfig;

    use super::*;
    use crate::cli::{Cli, Command};

    fn serve_args(flags: &[&str]) -> ServeArgs {
        let argv = ["pinlog", "serve"].iter().chain(flags);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Serve(args),
                ..
            }) => args,
            Ok(other) => panic!("`pinlog serve` parsed as {other:?}"),
            Err(error) => panic!("flags {flags:?} rejected: {error}"),
        }
    }

    /// The file's values, with the given flags written over them.
    fn config_of(file: &str, flags: &[&str]) -> BrokerConfig {
        let mut config = from_toml(file, Path::new("test.toml")).expect("valid TOML");
        serve_args(flags).override_config(&mut config);
        config
    }

    const FILE: &str = r#"
        data_dir = "/var/lib/pinlog"
        listen = "0.0.0.0:19092"
        shards = 4
        default_partitions = 3
        allow_buffered_io = true

        [log]
        segment_bytes = 1048576
    "#;

    #[test]
    fn no_flags_and_no_file_is_the_embedded_default() {
        assert_eq!(
            broker_config(&serve_args(&[])).unwrap(),
            BrokerConfig::default()
        );
    }

    #[test]
    fn the_file_overrides_the_defaults_and_keeps_the_keys_it_leaves_out() {
        let config = config_of(FILE, &[]);
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/pinlog"));
        assert_eq!(
            config.listen,
            "0.0.0.0:19092".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(config.shards, Some(4));
        assert_eq!(config.default_partitions, 3);
        assert!(config.allow_buffered_io);
        assert_eq!(config.log.segment_bytes, 1_048_576);

        let defaults = BrokerConfig::default();
        assert_eq!(config.advertise, defaults.advertise);
        assert_eq!(config.node_id, defaults.node_id);
        assert_eq!(config.request_bytes_max, defaults.request_bytes_max);
        assert_eq!(config.log.max_message_bytes, defaults.log.max_message_bytes);
    }

    #[test]
    fn flags_override_the_file() {
        let config = config_of(
            FILE,
            &[
                "--data-dir",
                "/srv/pinlog",
                "--listen",
                "127.0.0.1:29092",
                "--advertise",
                "broker-1.example:9092",
                "--shards",
                "2",
            ],
        );
        assert_eq!(config.data_dir, PathBuf::from("/srv/pinlog"));
        assert_eq!(
            config.listen,
            "127.0.0.1:29092".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(config.advertise.as_deref(), Some("broker-1.example:9092"));
        assert_eq!(config.shards, Some(2));
        // Left alone by the flags: still the file's.
        assert_eq!(config.default_partitions, 3);
        assert!(config.allow_buffered_io);
        assert_eq!(config.log.segment_bytes, 1_048_576);
    }

    #[test]
    fn the_buffered_io_switch_turns_it_on_over_the_file() {
        let config = config_of("allow_buffered_io = false", &["--allow-buffered-io"]);
        assert!(config.allow_buffered_io);
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it_and_its_line() {
        let error = from_toml(
            "shards = 2\nlisten_addr = \"0.0.0.0:9092\"\n",
            Path::new("b.toml"),
        )
        .expect_err("unknown key accepted");
        let message = error.to_string();
        assert!(message.contains("unknown field `listen_addr`"), "{message}");
        assert!(message.contains("b.toml at line 2, column 1"), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn a_size_jitter_beyond_its_bound_is_an_error() {
        let error = from_toml(
            "[log]\nsegment_bytes_jitter_percent = 60\n",
            Path::new("j.toml"),
        )
        .unwrap_err();
        assert!(error.to_string().contains("at most 50"), "{error}");
        let config = from_toml(
            "[log]\nsegment_bytes_jitter_percent = 20\n",
            Path::new("j.toml"),
        )
        .unwrap();
        assert_eq!(
            config
                .log
                .log_config(IoMode::Direct)
                .segment_bytes_jitter_percent,
            20
        );
        assert_eq!(BrokerConfig::default().log.segment_bytes_jitter_percent, 5);
    }

    #[test]
    fn an_unknown_key_in_the_log_table_is_an_error() {
        let error = from_toml("[log]\nsegment_size = 10\n", Path::new("b.toml"))
            .expect_err("unknown key accepted");
        assert!(
            error.to_string().contains("unknown field `segment_size`"),
            "{error}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error() {
        let error = from_toml("shards = \"two\"\n", Path::new("b.toml")).expect_err("accepted");
        assert!(error.to_string().contains("line 1"), "{error}");
    }

    #[test]
    fn zero_shards_is_refused_on_the_command_line() {
        assert!(Cli::try_parse_from(["pinlog", "serve", "--shards", "0"]).is_err());
    }

    #[test]
    fn line_and_column_count_characters_from_one() {
        assert_eq!(line_and_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("é\nx", 3), (2, 1));
    }
}
