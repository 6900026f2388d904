//! The JSON brief against its documented schema (docs/brief.schema.json): round trips,
//! versions, documentation of every field, and briefs the schema must refuse.

use serde_json::Value;

use super::tests::sample;
use super::*;

fn schema() -> Value {
    let text = include_str!("../../docs/brief.schema.json");
    serde_json::from_str(text).expect("docs/brief.schema.json is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("schema compiles")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn json_round_trips() {
    let brief = sample();
    let json = render(&brief, Format::Json);
    assert!(json.ends_with("}\n"));
    assert_eq!(Brief::from_json(&json).expect("reads back"), brief);
    let value: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(value["brief"][0]["origin"], "llm");
    assert_eq!(value["brief"][1]["origin"], "extractive");
    assert_eq!(value["brief"][0]["related"][0]["kind"], "merged");

    // Without --explain there is no `rejected` key at all, and reading it back still works.
    let quiet = Brief { rejected: vec![], ..brief };
    let json = render(&quiet, Format::Json);
    assert!(!json.contains("\"rejected\": ["));
    assert_eq!(Brief::from_json(&json).expect("reads back"), quiet);
}

#[test]
fn json_of_another_version_is_refused() {
    let mut value = serde_json::to_value(sample()).expect("serialises");
    value["version"] = 2.into();
    let err = Brief::from_json(&value.to_string()).expect_err("version 2");
    assert!(matches!(err, BriefError::Version { found: 2 }), "{err}");
    assert!(matches!(Brief::from_json("[1, 2]"), Err(BriefError::Json(_))));
}

#[test]
fn schema_is_a_valid_documented_schema() {
    let schema = schema();
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("not a valid JSON Schema: {e}");
    }
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let mut missing = Vec::new();
    undocumented(&schema, "#", &mut missing);
    assert!(missing.is_empty(), "properties without a description: {missing:?}");
}

/// Collects the paths of properties that carry neither a description nor a `$ref` (whose
/// target is checked on its own).
fn undocumented(node: &Value, path: &str, missing: &mut Vec<String>) {
    let Some(obj) = node.as_object() else { return };
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            if prop.get("description").is_none() && prop.get("$ref").is_none() {
                missing.push(format!("{path}/{name}"));
            }
        }
    }
    for (key, child) in obj {
        undocumented(child, &format!("{path}/{key}"), missing);
    }
}

#[test]
fn json_output_validates_against_the_schema() {
    let validator = validator();
    for brief in [sample(), Brief { rejected: vec![], ..sample() }] {
        let value: Value = serde_json::from_str(&render(&brief, Format::Json)).expect("JSON");
        let errs = errors(&validator, &value);
        assert!(errs.is_empty(), "{errs:#?}");
    }
    let mut no_asr = sample();
    no_asr.models.asr = None;
    let value = serde_json::to_value(no_asr).expect("serialises");
    assert!(validator.is_valid(&value), "{:#?}", errors(&validator, &value));
}

#[test]
fn schema_rejects_broken_briefs() {
    let validator = validator();
    let good = serde_json::to_value(sample()).expect("serialises");
    type Mutation = fn(&mut Value);
    let mutations: [(&str, Mutation); 8] = [
        ("missing headline", |v| {
            if let Some(entry) = v["brief"][0].as_object_mut() {
                entry.remove("headline");
            }
        }),
        ("start as a string", |v| v["brief"][1]["start"] = "12:34".into()),
        ("unknown field", |v| v["clusters"][2]["colour"] = "red".into()),
        ("unknown origin", |v| v["brief"][0]["origin"] = "human".into()),
        ("rank 0", |v| v["brief"][0]["rank"] = 0.into()),
        ("version 2", |v| v["version"] = 2.into()),
        ("negative count", |v| v["stats"]["nominated"] = (-1).into()),
        ("related kind", |v| v["brief"][0]["related"][1]["kind"] = "far".into()),
    ];
    for (what, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad);
        assert_ne!(bad, good, "{what}: the mutation changed nothing");
        assert!(!validator.is_valid(&bad), "{what}: schema accepted it");
    }
}
