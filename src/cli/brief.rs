//! Episodes → brief, shared by `summarize`, `daily`, `batch` and `merge`: the models are loaded
//! once and can distill several times (a batch distills each episode, then the whole set).

use anyhow::Context;
use podbrief::asr::DeviceSpec;
use podbrief::brief::{Brief, ModelsUsed};
use podbrief::chapters::{self, Chapter, SegmentOptions, Titler};
use podbrief::distill::ads::AdRead;
use podbrief::distill::Line;
use podbrief::distill::{self, assemble, Distilled, Episode, Models, Options};
use podbrief::embed::Embedder;
use podbrief::llm::Llm;
use podbrief::llm::LlmError;
use podbrief::models::{ModelStore, Registry, Role};
use podbrief::store::Home;

use super::transcribe::OnDemandAsr;

/// Which models to use, on which device, and whether to trust the caches: the options every
/// command that reads episodes shares.
#[derive(Debug, clap::Args)]
pub(super) struct ModelArgs {
    /// Recompute transcripts and model replies instead of using the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// cpu, cuda, cuda:N or metal (all models).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Speech recognition model (registry name or folder).
    #[arg(long)]
    pub asr_model: Option<String>,
    /// Chat model (registry name or GGUF file).
    #[arg(long)]
    pub llm_model: Option<String>,
    /// Sentence-embedding model (registry name or folder).
    #[arg(long)]
    pub embed_model: Option<String>,
}

impl ModelArgs {
    /// The speech model these options ask for, loaded when an input first needs it.
    pub fn asr(&self, threads: usize) -> OnDemandAsr {
        OnDemandAsr::new(self.asr_model.as_deref(), self.device, threads, self.no_cache)
    }
}

/// How to turn episodes into a brief; shared by every command that writes one.
pub(super) struct BriefSettings<'a> {
    pub device: DeviceSpec,
    pub embed_model: Option<&'a str>,
    pub llm_model: Option<&'a str>,
    pub llm_passages: usize,
    pub interests: &'a [String],
    pub top: usize,
    pub explain: bool,
    pub no_cache: bool,
    /// The speech model, when any episode was transcribed by it.
    pub asr: Option<String>,
    pub already_sent: Vec<Vec<f32>>,
    /// `llm_passages` per episode rather than for the whole run (batches).
    pub per_episode: bool,
}

/// The models a brief needs, loaded once.
pub(super) struct BriefModels {
    embedder: Embedder,
    embed_name: String,
    llm: Option<Llm>,
    /// "none" without a chat model.
    llm_name: String,
}

impl BriefModels {
    /// The embedding model, and the chat model when rewrites are wanted (`llm_passages > 0`;
    /// otherwise it is neither loaded nor required to be in the store).
    pub fn load(
        home: &Home,
        device: DeviceSpec,
        embed_model: Option<&str>,
        llm_model: Option<&str>,
        llm_passages: usize,
    ) -> anyhow::Result<BriefModels> {
        let registry = Registry::builtin()?;
        let store = ModelStore::new(home);
        let device = device.candle()?;
        let embed = store.resolve(&registry, embed_model, Role::Embed)?;
        let embedder = Embedder::load(&embed.path, &device)
            .with_context(|| format!("loading {}", embed.path.display()))?;
        let (llm, llm_name) = if llm_passages > 0 {
            let m = store.resolve(&registry, llm_model, Role::Llm)?;
            let template = m.spec.as_ref().and_then(|s| s.chat_template.as_deref());
            let llm = Llm::load(&m.path, &device, 2048, template)
                .with_context(|| format!("loading model {}", m.name))?;
            (Some(llm), m.name)
        } else {
            (None, "none".to_string())
        };
        Ok(BriefModels { embedder, embed_name: embed.name, llm, llm_name })
    }

    /// The episodes' sentences, embedded and scored, with their sponsor reads marked (what
    /// `chapters` works from when there is no brief to make).
    pub fn prepare(
        &self,
        episodes: &[Episode],
        progress: &dyn distill::Progress,
    ) -> anyhow::Result<(Vec<Line>, Vec<Vec<AdRead>>)> {
        Ok(distill::prepare::lines(episodes, &self.embedder, &Options::default(), progress)?)
    }

    /// The chapters of each episode `wanted`, made from its prepared `lines` and `reads`,
    /// titled by the chat model when one is loaded (replies cached in the home unless
    /// `no_cache`).
    pub fn chapters(
        &mut self,
        home: &Home,
        (lines, reads): (&[Line], &[Vec<AdRead>]),
        episodes: &[Episode],
        no_cache: bool,
        wanted: &dyn Fn(usize) -> bool,
    ) -> Vec<(usize, Result<Vec<Chapter>, LlmError>)> {
        let cache_dir = home.root.join("llm-replies");
        let cache = (!no_cache).then_some(cache_dir.as_path());
        let name = self.llm_name.as_str();
        let titler = self.llm.as_mut().map(|llm| Titler { llm, name, cache });
        let segments: Vec<&[_]> = episodes.iter().map(|e| e.segments.as_slice()).collect();
        chapters::outline(lines, &segments, reads, titler, &SegmentOptions::default(), wanted)
    }

    /// Distills `episodes`, with LLM replies cached in the home unless `no_cache`.
    pub fn distill(
        &mut self,
        home: &Home,
        episodes: &[Episode],
        interests: &[String],
        opts: &Options,
        no_cache: bool,
        progress: &dyn distill::Progress,
    ) -> anyhow::Result<Distilled> {
        let cache_dir = home.root.join("llm-replies");
        let name = self.llm_name.as_str();
        let models = Models { embedder: &self.embedder, llm: self.llm.as_mut().map(|l| (l, name)) };
        let cache = (!no_cache).then_some(cache_dir.as_path());
        Ok(distill::run(episodes, models, interests, opts, cache, progress)?)
    }

    /// Adds each episode's chapters to the brief's outline: the publisher's where it gave some,
    /// else made and titled by the chat model when one is loaded. An episode whose titling
    /// fails keeps no outline; the brief stands.
    pub fn outline(
        &mut self,
        home: &Home,
        brief: &mut Brief,
        d: &Distilled,
        episodes: &[Episode],
        no_cache: bool,
    ) {
        for (ep, info) in episodes.iter().zip(brief.episodes.iter_mut()) {
            let given = chapters::from_file(ep.chapters.clone());
            info.chapters = given.iter().map(|c| c.info()).collect();
        }
        let wanted = |e: usize| episodes.get(e).is_some_and(|ep| ep.chapters.is_empty());
        for (e, result) in self.chapters(home, (&d.lines, &d.ads), episodes, no_cache, &wanted) {
            match (result, brief.episodes.get_mut(e)) {
                (Ok(list), Some(info)) => info.chapters = list.iter().map(|c| c.info()).collect(),
                (Err(err), _) => tracing::warn!("no outline for {}: {err}", episodes[e].source),
                _ => {}
            }
        }
    }

    /// The brief of distilled episodes.
    pub fn assemble(
        &self,
        d: &Distilled,
        episodes: &[Episode],
        s: &BriefSettings,
        asr: Option<String>,
    ) -> Brief {
        let cx = assemble::Context {
            episodes,
            interests: s.interests,
            models: ModelsUsed { asr, embed: self.embed_name.clone(), llm: self.llm_name.clone() },
            top: s.top,
            explain: s.explain,
            created: assemble::now_rfc3339(),
        };
        let brief = assemble::brief(d, &cx);
        let st = &brief.stats;
        tracing::info!(
            "{} sentences, {} nominated, {} rewritten by the LLM ({} verified, {} rejected), \
             {} clusters; seconds {:?}",
            st.sentences,
            st.nominated,
            st.llm_passages,
            st.verified,
            st.rejected,
            st.clusters,
            st.seconds
        );
        brief
    }
}

/// Loads the models, distills the episodes and assembles the brief.
pub(super) fn make_brief(
    home: &Home,
    episodes: &[Episode],
    s: BriefSettings,
    progress: &dyn distill::Progress,
) -> anyhow::Result<(Brief, Distilled)> {
    let mut models = BriefModels::load(home, s.device, s.embed_model, s.llm_model, s.llm_passages)?;
    let opts = Options {
        llm_passages: s.llm_passages,
        llm_per_episode: s.per_episode,
        already_sent: s.already_sent.clone(),
        ..Options::default()
    };
    let d = models.distill(home, episodes, s.interests, &opts, s.no_cache, progress)?;
    let mut brief = models.assemble(&d, episodes, &s, s.asr.clone());
    models.outline(home, &mut brief, &d, episodes, s.no_cache);
    Ok((brief, d))
}

/// "open source; AI policy" → its topics.
pub(super) fn split_interests(text: &str) -> Vec<String> {
    text.split([',', ';']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}
