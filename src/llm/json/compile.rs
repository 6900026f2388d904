//! Compiling a JSON Schema (as serde_json or derived by schemars) into the automaton's nodes.

use std::rc::Rc;

use serde_json::Value;

use super::{Node, Schema, DEFAULT_MAX_ITEMS, DEFAULT_MAX_STRING};
use crate::llm::LlmError;

impl Schema {
    pub fn from_json_schema(root: &Value) -> Result<Schema, LlmError> {
        let mut s = Schema { nodes: Vec::new() };
        s.compile(root, root, 0)?;
        Ok(s)
    }

    pub fn for_type<T: schemars::JsonSchema>() -> Result<Schema, LlmError> {
        let schema = schemars::schema_for!(T);
        Schema::from_json_schema(schema.as_value())
    }

    fn push(&mut self, n: Node) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn compile(&mut self, v: &Value, root: &Value, depth: usize) -> Result<usize, LlmError> {
        let err = |m: String| LlmError::Schema(m);
        if depth > 32 {
            return Err(err("nesting deeper than 32 (recursive $ref?)".into()));
        }
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let target = r
                .strip_prefix('#')
                .and_then(|p| root.pointer(p))
                .ok_or_else(|| err(format!("unresolved $ref {r}")))?;
            return self.compile(target, root, depth + 1);
        }
        if let Some(options) = v.get("anyOf").or_else(|| v.get("oneOf")).and_then(Value::as_array) {
            let is_null = |o: &Value| o.get("type").and_then(Value::as_str) == Some("null");
            let rest: Vec<&Value> = options.iter().filter(|o| !is_null(o)).collect();
            if rest.len() == 1 && options.len() == 2 {
                let inner = self.compile(rest[0], root, depth + 1)?;
                return Ok(self.push(Node::Nullable(inner)));
            }
            return Err(err("anyOf/oneOf is supported only as 'T or null'".into()));
        }
        if let Some(e) = v.get("enum").and_then(Value::as_array) {
            let words: Option<Vec<String>> =
                e.iter().map(|x| x.as_str().map(String::from)).collect();
            let words = words.ok_or_else(|| err("only string enums are supported".into()))?;
            return Ok(self.push(Node::Enum(words)));
        }
        let ty = match v.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => {
                let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
                let rest: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
                if rest.len() != 1 {
                    return Err(err(format!("unsupported type list {names:?}")));
                }
                let mut inner_schema = v.clone();
                inner_schema["type"] = Value::String(rest[0].into());
                let inner = self.compile(&inner_schema, root, depth + 1)?;
                return Ok(if names.len() > 1 { self.push(Node::Nullable(inner)) } else { inner });
            }
            _ => return Err(err(format!("schema without a type: {v}"))),
        };
        let usize_of = |k: &str| v.get(k).and_then(Value::as_u64).map(|x| x as usize);
        let node = match ty.as_str() {
            "object" => {
                let props = v.get("properties").and_then(Value::as_object);
                let mut fields = Vec::new();
                for (i, (name, sub)) in props.into_iter().flatten().enumerate() {
                    let key = serde_json::to_string(name).map_err(|e| err(e.to_string()))?;
                    let lit: Rc<str> =
                        if i == 0 { format!("{{{key}: ") } else { format!(", {key}: ") }.into();
                    fields.push((lit, self.compile(sub, root, depth + 1)?));
                }
                Node::Object(fields)
            }
            "array" => {
                let items = v.get("items").ok_or_else(|| err("array without items".into()))?;
                let items = self.compile(items, root, depth + 1)?;
                let min = usize_of("minItems").unwrap_or(0);
                Node::Array { items, min, max: usize_of("maxItems").unwrap_or(DEFAULT_MAX_ITEMS) }
            }
            "string" => Node::String {
                min: usize_of("minLength").unwrap_or(0),
                max: usize_of("maxLength").unwrap_or(DEFAULT_MAX_STRING),
            },
            "integer" => Node::Number { integer: true },
            "number" => Node::Number { integer: false },
            "boolean" => Node::Boolean,
            other => return Err(err(format!("unsupported type '{other}'"))),
        };
        Ok(self.push(node))
    }
}
