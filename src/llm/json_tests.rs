use serde_json::json;

use super::*;

fn schema() -> Schema {
    Schema::from_json_schema(&json!({
        "type": "object",
        "properties": {
            "claim": {"type": "string", "minLength": 1, "maxLength": 20},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            "kind": {"enum": ["fact", "opinion"]},
            "ok": {"type": "boolean"},
            "note": {"type": ["string", "null"]},
            "n": {"type": "integer"}
        }
    }))
    .unwrap()
}

fn accepts_all(s: &Schema, text: &str) -> bool {
    let mut st = s.start();
    st.advance(s, text.as_bytes()) && st.is_done()
}

#[test]
fn canonical_document_is_accepted_in_any_split() {
    let s = schema();
    let doc = r#"{"claim": "a \"b\" \u00e9", "score": -1.5e3, "tags": ["x", "y"], "kind": "fact", "ok": true, "note": null, "n": 42}"#;
    assert!(accepts_all(&s, doc));
    // Byte by byte, as tokens of any length would arrive.
    let mut st = s.start();
    for b in doc.bytes() {
        assert!(st.accepts(&s, &[b]), "rejected {:?}", b as char);
        st.advance(&s, &[b]);
    }
    assert!(st.is_done());
    assert!(serde_json::from_str::<serde_json::Value>(doc).is_ok());
}

#[test]
fn shape_violations_are_rejected() {
    let s = schema();
    let bad = [
        r#"{"claim": "", "#,                                     // minLength
        r#"{"claim": "this is far too long for it""#,            // maxLength
        r#"{"score": 1"#,                                        // wrong first key
        r#"{"claim": "a", "score": 01"#,                         // leading zero
        r#"{"claim": "a", "score": 1, "tags": ["a", "b", "c"]"#, // maxItems
        r#"{"claim": "a", "score": 1, "tags": [], "kind": "other""#,
        r#"{"claim": "a", "score": 1, "tags": [], "kind": "fact", "ok": yes"#,
        "{\"claim\": \"a\nb\"", // raw newline in a string
        r#"{"claim": "a", "score": 1, "tags": [], "kind": "fact", "ok": true, "note": null, "n": 1.5"#,
    ];
    for b in bad {
        let mut st = s.start();
        assert!(!st.advance(&s, b.as_bytes()), "accepted {b}");
    }
    // Nothing may follow a finished document.
    let doc = r#"{"claim": "a", "score": 1, "tags": [], "kind": "fact", "ok": false, "note": "x", "n": 0}"#;
    assert!(accepts_all(&s, doc));
    let mut st = s.start();
    st.advance(&s, doc.as_bytes());
    assert!(!st.accepts(&s, b"\n"));
}

#[test]
fn keys_are_forced() {
    let s = schema();
    let mut st = s.start();
    assert!(st.forced().is_none());
    assert!(st.advance(&s, b"{"));
    assert_eq!(st.forced(), Some("\"claim\": "));
    assert!(st.advance(&s, b"\"claim\": \"hi\""));
    assert_eq!(st.forced(), Some(", \"score\": "));
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Insight {
    claim: String,
    quotes: Vec<String>,
    weight: Option<u32>,
}

#[test]
fn derived_schema_compiles() {
    let s = Schema::for_type::<Insight>().unwrap();
    let doc = r#"{"claim": "x", "quotes": ["a"], "weight": null}"#;
    assert!(accepts_all(&s, doc));
    assert!(serde_json::from_str::<Insight>(doc).is_ok());
}
