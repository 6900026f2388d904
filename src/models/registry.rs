//! The model registry: `models.toml`, compiled into the binary so that a released podbrief always
//! knows exactly which bytes it trusts.

use serde::Deserialize;

use super::ModelError;

const BUILTIN: &str = include_str!("../../models.toml");

/// What a model is used for in the pipeline; `fetch` with no name takes the default of each role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Asr,
    Embed,
    Llm,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Asr => "asr",
            Role::Embed => "embed",
            Role::Llm => "llm",
        })
    }
}

/// A conversion that runs after the pinned source files are in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conversion {
    /// CTranslate2 Whisper directory → `model.safetensors` + `config.json` (candle) and
    /// `ggml-model.bin` (whisper.cpp).
    Ct2Whisper,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub default: bool,
    /// The small LLM fetched beside the default one: the integration tests run it (a second
    /// model at a third of the default's time), and `--llm-model` can choose it where speed
    /// counts more than the judged quality of titles and briefs.
    #[serde(default)]
    pub fast: bool,
    pub arch: String,
    pub format: String,
    #[serde(default)]
    pub convert: Option<Conversion>,
    /// The file that `models path` prints: the weights the runtime loads.
    pub main: String,
    pub license: String,
    pub description: String,
    /// Jinja chat template for LLMs whose GGUF carries none (or a broken one); it replaces the
    /// GGUF's `tokenizer.chat_template`.
    #[serde(default)]
    pub chat_template: Option<String>,
    pub hub: HubSource,
    pub pypi: PypiSource,
    pub files: Vec<FileSpec>,
    /// Files produced by `convert`, pinned because the conversion is deterministic.
    #[serde(default)]
    pub outputs: Vec<OutputSpec>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubSource {
    pub repo: String,
    pub revision: String,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PypiSource {
    /// `name==version` requirements handed to `pip download --no-deps`.
    pub packages: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Path of the file in the model's folder of the store.
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// Path in the hub repo, when it differs from `name`.
    #[serde(default)]
    pub hub: Option<String>,
    /// Paths inside the wheels; several parts are concatenated in this order.
    pub pypi: Vec<String>,
}

impl FileSpec {
    pub fn hub_path(&self) -> &str {
        self.hub.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    model: Vec<ModelSpec>,
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub models: Vec<ModelSpec>,
}

impl Registry {
    pub fn builtin() -> Result<Registry, ModelError> {
        Registry::parse(BUILTIN)
    }

    pub fn parse(text: &str) -> Result<Registry, ModelError> {
        let file: RegistryFile =
            toml::from_str(text).map_err(|e| ModelError::Registry(e.to_string()))?;
        let registry = Registry { models: file.model };
        registry.check()?;
        Ok(registry)
    }

    /// Catches registry mistakes at load time rather than halfway through a download.
    fn check(&self) -> Result<(), ModelError> {
        let mut seen = std::collections::HashSet::new();
        for m in &self.models {
            if !seen.insert(m.name.as_str()) {
                return Err(ModelError::Registry(format!("model {} is listed twice", m.name)));
            }
            for f in &m.files {
                if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ModelError::Registry(format!(
                        "{}: file {} has no valid sha256",
                        m.name, f.name
                    )));
                }
                if f.pypi.is_empty() {
                    return Err(ModelError::Registry(format!(
                        "{}: file {} has no PyPI path",
                        m.name, f.name
                    )));
                }
            }
        }
        for role in [Role::Asr, Role::Embed, Role::Llm] {
            let n = self.models.iter().filter(|m| m.role == role && m.default).count();
            if n != 1 {
                return Err(ModelError::Registry(format!(
                    "role {role} must have exactly one default model, found {n}"
                )));
            }
        }
        let fast: Vec<_> = self.models.iter().filter(|m| m.fast).collect();
        if fast.len() != 1 || fast[0].role != Role::Llm {
            return Err(ModelError::Registry(format!(
                "exactly one model, an llm, must be fast, found {}",
                fast.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<&ModelSpec, ModelError> {
        self.models.iter().find(|m| m.name == name).ok_or_else(|| ModelError::UnknownModel {
            name: name.to_string(),
            known: self.models.iter().map(|m| m.name.clone()).collect::<Vec<_>>().join(", "),
        })
    }

    pub fn default_for(&self, role: Role) -> &ModelSpec {
        // `check` guarantees exactly one default per role.
        self.models
            .iter()
            .find(|m| m.role == role && m.default)
            .expect("registry checked: one default per role")
    }

    /// The small LLM fetched beside the default one (see [`ModelSpec::fast`]).
    pub fn fast_llm(&self) -> &ModelSpec {
        // `check` guarantees exactly one fast model, an LLM.
        self.models.iter().find(|m| m.fast).expect("registry checked: one fast llm")
    }

    /// What `models fetch` gets with no names: each role's default and the fast LLM.
    pub fn defaults(&self) -> Vec<&ModelSpec> {
        let mut v: Vec<_> =
            [Role::Asr, Role::Embed, Role::Llm].into_iter().map(|r| self.default_for(r)).collect();
        v.push(self.fast_llm());
        v.dedup_by(|a, b| a.name == b.name);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_parses_and_covers_the_known_models() {
        let r = Registry::builtin().unwrap();
        for name in [
            "whisper-tiny.en",
            "whisper-base",
            "all-minilm-l6-v2",
            "qwen2.5-coder-0.5b-instruct",
            "qwen2.5-coder-1.5b-instruct",
            "smollm2-135m-instruct",
        ] {
            r.get(name).unwrap();
        }
        assert_eq!(r.default_for(Role::Asr).name, "whisper-tiny.en");
        assert_eq!(r.default_for(Role::Embed).name, "all-minilm-l6-v2");
        assert_eq!(r.default_for(Role::Llm).name, "qwen2.5-coder-1.5b-instruct");
        assert_eq!(r.fast_llm().name, "qwen2.5-coder-0.5b-instruct");
        let fetched: Vec<_> = r.defaults().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            fetched,
            [
                "whisper-tiny.en",
                "all-minilm-l6-v2",
                "qwen2.5-coder-1.5b-instruct",
                "qwen2.5-coder-0.5b-instruct"
            ]
        );
    }

    #[test]
    fn unknown_model_error_lists_the_known_ones() {
        let r = Registry::builtin().unwrap();
        let msg = r.get("whisper-huge").unwrap_err().to_string();
        assert!(msg.contains("whisper-huge") && msg.contains("whisper-tiny.en"), "{msg}");
    }

    #[test]
    fn duplicate_defaults_are_refused() {
        let text = BUILTIN.replace("default = false", "default = true");
        assert!(Registry::parse(&text).is_err());
    }
}
