//! The committed `protocol/src/generated/` must be exactly what the generator produces from
//! `../shared/kafka-message-specs`. Regenerate with `cargo run -p pinlog-codegen`.

use std::collections::BTreeSet;

#[test]
fn committed_code_matches_the_generator() {
    let specs = pinlog_codegen::default_specs_dir();
    if !specs.is_dir() {
        eprintln!(
            "SKIPPED: {} is absent, so the generated code cannot be compared with the specs",
            specs.display()
        );
        return;
    }
    let generated = pinlog_codegen::generate(&specs).expect("generator failed");
    let out_dir = pinlog_codegen::default_output_dir();
    let mut stale = Vec::new();
    for (name, text) in &generated {
        match std::fs::read_to_string(out_dir.join(name)) {
            Ok(committed) if committed == *text => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(e) => stale.push(format!("{name}: {e}")),
        }
    }
    let expected: BTreeSet<_> = generated.keys().cloned().collect();
    for entry in std::fs::read_dir(&out_dir)
        .expect("reading generated dir")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".rs") && !expected.contains(&name) {
            stale.push(format!("{name} is not produced by the generator"));
        }
    }
    assert!(
        stale.is_empty(),
        "protocol/src/generated is out of date; run `cargo run -p pinlog-codegen`:\n{}",
        stale.join("\n")
    );
}

#[test]
fn comments_are_stripped_outside_strings_only() {
    let text = "{ \"a\": \"x//y\", // note\n \"b\": 1 }";
    let value: serde_json::Value =
        serde_json::from_str(&pinlog_codegen::spec::strip_comments(text)).unwrap();
    assert_eq!(value["a"], "x//y");
    assert_eq!(value["b"], 1);
}

#[test]
fn version_ranges_parse() {
    use pinlog_codegen::spec::Versions;
    assert_eq!(
        Versions::parse("3+").unwrap(),
        Some(Versions {
            min: 3,
            max: i16::MAX
        })
    );
    assert_eq!(
        Versions::parse("0-7").unwrap(),
        Some(Versions { min: 0, max: 7 })
    );
    assert_eq!(
        Versions::parse("5").unwrap(),
        Some(Versions { min: 5, max: 5 })
    );
    assert_eq!(Versions::parse("none").unwrap(), None);
    assert!(Versions::parse("7-3").is_err());
    assert!(Versions::parse("x").is_err());
}

#[test]
fn snake_case_names() {
    use pinlog_codegen::model::snake_case;
    assert_eq!(snake_case("ThrottleTimeMs"), "throttle_time_ms");
    assert_eq!(snake_case("KRaftVersionRecord"), "k_raft_version_record");
    assert_eq!(snake_case("ApiVersionsRequest"), "api_versions_request");
    assert_eq!(snake_case("IsrNodes"), "isr_nodes");
}
