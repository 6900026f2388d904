//! `podbrief models …`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use podbrief::models::fetch::{self, Source};
use podbrief::models::{ct2, info, ModelStore, Registry};
use podbrief::store::Home;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every model podbrief knows, and whether it is in the store.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Download (and convert) models; with no name, the default model of each role.
    Fetch {
        names: Vec<String>,
        /// Every model in the registry.
        #[arg(long, conflicts_with = "names")]
        all: bool,
        /// Where to download from.
        #[arg(long, value_enum, default_value = "auto")]
        source: Source,
        #[arg(long)]
        json: bool,
    },
    /// Re-hash every file in the store against its pin; exits non-zero on any fault.
    Verify {
        /// Models to check (default: every model in the store).
        names: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the path of a model's main weights file.
    Path {
        name: String,
        /// Print the model's source folder instead (the CTranslate2 directory for Whisper).
        #[arg(long)]
        source: bool,
    },
    /// What a model contains: architecture, context length, vocabulary size, quantization.
    Info {
        /// Registry name, GGUF file or model folder.
        #[arg(value_name = "NAME|PATH")]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Convert a faster-whisper (CTranslate2) model directory for podbrief's Whisper backends.
    #[command(name = "import-ct2")]
    ImportCt2 {
        dir: PathBuf,
        /// Output folder (default: the model store, under the directory's name).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let registry = Registry::builtin()?;
    let store = ModelStore::new(&Home::from_env());
    match cmd {
        Command::List { json } => {
            let rows: Vec<serde_json::Value> = registry
                .models
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "name": m.name, "role": m.role, "default": m.default, "fast": m.fast,
                        "arch": m.arch,
                        "format": m.format, "license": m.license,
                        "size": m.files.iter().map(|f| f.size).sum::<u64>(),
                        "installed": store.is_installed(m), "description": m.description,
                    })
                })
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:<30} {:<6} {:<8} {:>9}  {:<10} DESCRIPTION",
                    "NAME", "ROLE", "DEFAULT", "SIZE", "INSTALLED"
                );
                for (m, r) in registry.models.iter().zip(&rows) {
                    println!(
                        "{:<30} {:<6} {:<8} {:>7}MB  {:<10} {}",
                        m.name,
                        m.role.to_string(),
                        match (m.default, m.fast) {
                            (true, _) => "yes",
                            (false, true) => "fast",
                            _ => "",
                        },
                        r["size"].as_u64().unwrap_or(0) / 1_000_000,
                        if r["installed"].as_bool() == Some(true) { "yes" } else { "no" },
                        m.description
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch { names, all, source, json } => {
            let specs: Vec<_> = if all {
                registry.models.iter().collect()
            } else if names.is_empty() {
                registry.defaults()
            } else {
                names.iter().map(|n| registry.get(n)).collect::<Result<_, _>>()?
            };
            let mut reports = Vec::new();
            let mut failed = false;
            for spec in specs {
                match fetch::fetch(&store, spec, source) {
                    Ok(r) => {
                        if !json {
                            println!("{:<30} {:<8} {}", r.model, r.source, r.path.display());
                        }
                        reports.push(serde_json::to_value(&r)?);
                    }
                    Err(e) => {
                        failed = true;
                        eprintln!("error: {}: {e}", spec.name);
                        reports
                            .push(serde_json::json!({"model": spec.name, "error": e.to_string()}));
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            }
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Command::Verify { names, json } => {
            let specs: Vec<_> = if names.is_empty() {
                registry.models.iter().filter(|m| store.dir(m).exists()).collect()
            } else {
                names.iter().map(|n| registry.get(n)).collect::<Result<_, _>>()?
            };
            let total: u64 = specs.iter().map(|s| store.verify_size(s)).sum();
            let bar = fetch::bytes_bar(total, "verifying");
            let mut faults = Vec::new();
            for spec in &specs {
                let found = store.verify(spec, &mut |n| bar.inc(n));
                if !json {
                    println!(
                        "{:<30} {}",
                        spec.name,
                        if found.is_empty() {
                            "ok".to_string()
                        } else {
                            format!("{} fault(s)", found.len())
                        }
                    );
                }
                faults.extend(found);
            }
            bar.finish_and_clear();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"checked": specs.len(), "faults": faults})
                    )?
                );
            } else {
                for f in &faults {
                    eprintln!("fault: {} {}: {}; {}", f.model, f.file, f.problem, f.repair);
                }
            }
            Ok(if faults.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Path { name, source } => {
            let spec = registry.get(&name)?;
            let path = if source { store.source_dir(spec) } else { store.require(spec)? };
            if !path.exists() {
                bail!("{} does not exist; run `podbrief models fetch {name}`", path.display());
            }
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { name, json } => {
            let path = if std::path::Path::new(&name).exists() {
                PathBuf::from(&name)
            } else {
                store.loadable_path(registry.get(&name)?)?
            };
            let i = info::describe(&path)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&i)?);
            } else {
                println!("path           {}", i.path);
                println!("format         {}", i.format);
                println!("architecture   {}", i.architecture);
                let opt = |v: Option<usize>| v.map_or("unknown".into(), |v| v.to_string());
                println!("context        {}", opt(i.context_length));
                println!("vocabulary     {}", opt(i.vocab_size));
                println!("parameters     {:.1}M", i.parameters as f64 / 1e6);
                let q: Vec<String> =
                    i.quantization.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
                println!("tensors        {}", q.join(", "));
                println!("size           {:.1} MB", i.file_bytes as f64 / 1e6);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ImportCt2 { dir, output } => {
            let name = dir
                .canonicalize()
                .with_context(|| format!("{}", dir.display()))?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "imported-whisper".into());
            let out = output.unwrap_or_else(|| store.root.join(&name));
            let bar = fetch::bytes_bar(0, "converting");
            let report = ct2::import_ct2(&dir, &out, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .with_context(|| format!("importing {}", dir.display()))?;
            bar.finish_and_clear();
            tracing::info!("{report:?}");
            println!("{}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
