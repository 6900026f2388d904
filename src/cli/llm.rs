//! `podbrief llm`: one chat turn with the local model, for users and for benchmarks.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use podbrief::device::DeviceSpec;
use podbrief::llm::{ChatMessage, GenOptions, Llm, Sampling, Schema};
use podbrief::models::{ModelStore, Registry, Role};
use podbrief::store::Home;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user message; `-` reads it from standard input.
    #[arg(value_name = "PROMPT|-")]
    prompt: String,
    /// Registry name (see `podbrief models list`) or a GGUF file.
    #[arg(long, value_name = "NAME|PATH")]
    model: Option<String>,
    /// A system message to put before the prompt.
    #[arg(long)]
    system: Option<String>,
    #[arg(long, default_value_t = 512, value_name = "N")]
    max_tokens: usize,
    /// 0 picks the most likely token every time (deterministic).
    #[arg(long, default_value_t = 0.0, value_name = "T")]
    temperature: f32,
    #[arg(long, default_value_t = 0.9, value_name = "P")]
    top_p: f32,
    #[arg(long, default_value_t = 40, value_name = "K")]
    top_k: usize,
    /// Seed for sampling: the same seed and settings give the same text.
    #[arg(long, default_value_t = 42, value_name = "S")]
    seed: u64,
    /// Penalty for tokens among the last 64 (1.0 turns it off).
    #[arg(long, default_value_t = 1.1)]
    repeat_penalty: f32,
    /// Keep generating past the end of the turn, up to --max-tokens.
    #[arg(long)]
    ignore_eos: bool,
    /// Constrain the reply to JSON matching this JSON Schema (objects, arrays, strings,
    /// numbers, booleans, string enums).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Context length in tokens (memory grows with it); at most the model's own.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    ctx: usize,
    /// Shorten a prompt that does not fit instead of failing.
    #[arg(long)]
    truncate: bool,
    /// Answer a yes/no question: print the model's probability of "Yes" (against "No") instead
    /// of a reply. Costs prompt tokens only.
    #[arg(long, conflicts_with = "schema")]
    yes_no: bool,
    /// Print one line of timing to standard error.
    #[arg(long)]
    stats: bool,
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // `echo … | podbrief llm -` should not send the shell's final newline as part of the prompt.
    let prompt = super::read_arg_or_stdin(&args.prompt)?.trim_end_matches(['\n', '\r']).to_string();
    let home = Home::from_env();
    let registry = Registry::builtin()?;
    let model = ModelStore::new(&home).resolve(&registry, args.model.as_deref(), Role::Llm)?;
    let template = model.spec.as_ref().and_then(|s| s.chat_template.as_deref());
    let device = args.device.candle()?;
    let mut llm = Llm::load(&model.path, &device, args.ctx, template)
        .with_context(|| format!("loading model {}", model.name))?;

    let mut messages = Vec::new();
    if let Some(system) = args.system {
        messages.push(ChatMessage::system(system));
    }
    messages.push(ChatMessage::user(prompt));
    let opts = GenOptions {
        max_tokens: args.max_tokens,
        ignore_eos: args.ignore_eos,
        sampling: Sampling {
            temperature: args.temperature,
            top_p: args.top_p,
            top_k: args.top_k,
            seed: args.seed,
            repeat_penalty: args.repeat_penalty,
            ..Sampling::default()
        },
    };
    let prompt = if args.truncate {
        llm.prompt_fitting(&messages, opts.max_tokens)?
    } else {
        llm.prompt(&messages)?
    };
    if args.yes_no {
        println!("{:.4}", llm.yes_probability(&messages)?);
        return Ok(ExitCode::SUCCESS);
    }
    let schema = match &args.schema {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            Some(Schema::from_json_schema(&value).with_context(|| path.display().to_string())?)
        }
        None => None,
    };
    let mut out = std::io::stdout().lock();
    let c = llm.generate(&prompt, &opts, schema.as_ref(), &mut |piece| {
        // A closed pipe (`| head`) is not worth failing the generation for.
        let _ = out.write_all(piece.as_bytes());
        let _ = out.flush();
    })?;
    let _ = writeln!(out);
    if args.stats {
        let s = &c.stats;
        eprintln!(
            "stats: prompt_tokens={} prompt_tps={:.1} generated_tokens={} generation_tps={:.1} \
             load_s={:.2} stop={}",
            s.prompt_tokens,
            s.prompt_tps(),
            s.generated_tokens,
            s.generation_tps(),
            llm.load_secs,
            serde_json::to_value(c.stop)?.as_str().unwrap_or("?"),
        );
    }
    Ok(ExitCode::SUCCESS)
}
