//! Models: the pinned registry, the local model store, fetching from the hub or the PyPI mirror,
//! and the conversions that turn downloaded formats into what the runtimes load.

pub mod ct2;
pub mod fetch;
pub mod ggml;
pub mod info;
pub mod mel_filters;
pub mod registry;

use std::path::{Path, PathBuf};

pub use registry::{Conversion, ModelSpec, Registry, Role};

use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("models.toml is invalid: {0}")]
    Registry(String),
    #[error("unknown model '{name}' (known models: {known})")]
    UnknownModel { name: String, known: String },
    #[error(
        "model '{name}' is not in the model store ({dir}); run `podbrief models fetch {name}`"
    )]
    NotFetched { name: String, dir: PathBuf },
    #[error("checksum mismatch for {file}: expected sha256 {expected}, got {actual}; the file was not kept")]
    Checksum { file: String, expected: String, actual: String },
    #[error(
        "size mismatch for {file}: expected {expected} bytes, got {actual}; the file was not kept"
    )]
    Size { file: String, expected: u64, actual: u64 },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("pip download failed: {0}")]
    Pip(String),
    #[error("hub download failed: {0}")]
    Hub(String),
    #[error("{0}")]
    Convert(#[from] ct2::Ct2Error),
    #[error("'{name}' is a {role} model; this needs a{} {wanted} model", if *wanted == Role::Asr { "n" } else { "" })]
    WrongRole { name: String, role: Role, wanted: Role },
}

/// A model named on the command line, found: its display name, the path its runtime loads (the
/// weights file for GGUF models, the model folder otherwise) and its registry entry, if any.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub path: PathBuf,
    pub spec: Option<ModelSpec>,
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io { path: path.to_path_buf(), source }
}

/// For unit tests that need real weights: the file in the model store, or a loud failure that
/// says how to get it (a test that skipped would pass without testing anything).
#[cfg(test)]
pub(crate) fn stored_for_test(model: &str, file: &str) -> PathBuf {
    let p = store::Home::from_env().models.join(model).join(file);
    assert!(
        p.exists(),
        "{} is missing; run scripts/setup.sh (or `podbrief models fetch {model}`)",
        p.display()
    );
    p
}

/// One problem found by `verify`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fault {
    pub model: String,
    pub file: String,
    pub problem: String,
    /// The command that mends it.
    pub repair: String,
}

/// The folder of models under the podbrief home; one sub-folder per model name.
#[derive(Debug, Clone)]
pub struct ModelStore {
    pub root: PathBuf,
}

impl ModelStore {
    pub fn new(home: &store::Home) -> ModelStore {
        ModelStore { root: home.models.clone() }
    }

    pub fn dir(&self, spec: &ModelSpec) -> PathBuf {
        self.root.join(&spec.name)
    }

    /// Where a pinned source file lives. Files that get converted sit in a `source/` sub-folder
    /// so the converted outputs own the model folder's top level.
    pub fn source_path(&self, spec: &ModelSpec, file: &str) -> PathBuf {
        match spec.convert {
            Some(_) => self.dir(spec).join("source").join(file),
            None => self.dir(spec).join(file),
        }
    }

    pub fn source_dir(&self, spec: &ModelSpec) -> PathBuf {
        match spec.convert {
            Some(_) => self.dir(spec).join("source"),
            None => self.dir(spec),
        }
    }

    /// Turns `--model NAME|PATH` (or nothing: the role's default) into something loadable. A
    /// path is taken as it is; a name must be in the registry, have the role, and be fetched.
    pub fn resolve(
        &self,
        registry: &Registry,
        arg: Option<&str>,
        role: Role,
    ) -> Result<Resolved, ModelError> {
        if let Some(a) = arg {
            let p = Path::new(a);
            if p.exists() {
                // A folder keeps its whole name (`whisper-tiny.en`); a file loses its extension.
                let name = if p.is_dir() { p.file_name() } else { p.file_stem() }
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| a.to_string());
                return Ok(Resolved { name, path: p.to_path_buf(), spec: None });
            }
        }
        let spec = match arg {
            Some(name) => registry.get(name)?,
            None => registry.default_for(role),
        };
        if spec.role != role {
            return Err(ModelError::WrongRole {
                name: spec.name.clone(),
                role: spec.role,
                wanted: role,
            });
        }
        let path = self.loadable_path(spec)?;
        Ok(Resolved { name: spec.name.clone(), path, spec: Some(spec.clone()) })
    }

    /// What a runtime opens: the weights file of a GGUF model, the folder of the others.
    pub fn loadable_path(&self, spec: &ModelSpec) -> Result<PathBuf, ModelError> {
        let main = self.require(spec)?;
        Ok(if spec.format == "gguf" { main } else { self.dir(spec) })
    }

    pub fn main_path(&self, spec: &ModelSpec) -> PathBuf {
        self.dir(spec).join(&spec.main)
    }

    /// The path of a model's main file, or a clear error saying how to get it.
    pub fn require(&self, spec: &ModelSpec) -> Result<PathBuf, ModelError> {
        let path = self.main_path(spec);
        if path.is_file() && self.outputs_present(spec) {
            Ok(path)
        } else {
            Err(ModelError::NotFetched { name: spec.name.clone(), dir: self.dir(spec) })
        }
    }

    fn outputs_present(&self, spec: &ModelSpec) -> bool {
        spec.outputs.iter().all(|o| self.dir(spec).join(&o.name).is_file())
    }

    pub fn is_installed(&self, spec: &ModelSpec) -> bool {
        self.require(spec).is_ok()
            && spec.files.iter().all(|f| self.source_path(spec, &f.name).is_file())
    }

    /// Re-hashes every pinned file of a model; returns what is missing or wrong.
    pub fn verify(&self, spec: &ModelSpec, on_bytes: &mut dyn FnMut(u64)) -> Vec<Fault> {
        let mut faults = Vec::new();
        let fetch = format!("podbrief models fetch {}", spec.name);
        let downloads = format!("`{fetch}` downloads it again");
        let converts = format!("`{fetch}` converts it again from the downloaded files");
        let mut check = |path: PathBuf, name: &str, size: Option<u64>, sha: &str| {
            // Sources are pinned with their size; converted outputs are not.
            let repair = if size.is_some() { &downloads } else { &converts };
            let fault = |problem: String| Fault {
                model: spec.name.clone(),
                file: name.to_string(),
                problem,
                repair: repair.clone(),
            };
            match std::fs::metadata(&path) {
                Err(_) => faults.push(fault(format!("missing ({})", path.display()))),
                Ok(meta) if size.is_some_and(|s| s != meta.len()) => faults.push(fault(format!(
                    "size {} bytes, expected {}",
                    meta.len(),
                    size.unwrap_or_default()
                ))),
                Ok(_) => match store::sha256_file(&path, on_bytes) {
                    Ok(actual) if actual == sha => {}
                    Ok(actual) => faults.push(fault(format!("sha256 {actual}, expected {sha}"))),
                    Err(e) => faults.push(fault(format!("unreadable: {e}"))),
                },
            }
        };
        for f in &spec.files {
            check(self.source_path(spec, &f.name), &f.name, Some(f.size), &f.sha256);
        }
        for o in &spec.outputs {
            check(self.dir(spec).join(&o.name), &o.name, None, &o.sha256);
        }
        faults
    }

    /// Bytes `verify` will hash, for its progress bar.
    pub fn verify_size(&self, spec: &ModelSpec) -> u64 {
        let outputs: u64 = spec
            .outputs
            .iter()
            .filter_map(|o| std::fs::metadata(self.dir(spec).join(&o.name)).ok())
            .map(|m| m.len())
            .sum();
        spec.files.iter().map(|f| f.size).sum::<u64>() + outputs
    }
}
