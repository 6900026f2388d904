//! Whisper's special tokens, looked up by name in the model's own tokenizer rather than hard-coded,
//! because English-only and multilingual vocabularies number them differently.

use tokenizers::Tokenizer;

use super::AsrError;

#[derive(Debug, Clone)]
pub struct SpecialTokens {
    pub eot: u32,
    pub sot: u32,
    pub sot_prev: u32,
    pub no_timestamps: u32,
    /// `<|0.00|>`; every id above it is a further 20 ms.
    pub timestamp_begin: u32,
    pub no_speech: Option<u32>,
    pub transcribe: Option<u32>,
    /// Language tokens in id order (`<|en|>`, `<|zh|>`, …); empty for English-only models.
    pub languages: Vec<(String, u32)>,
    /// Never sampled: non-speech symbols listed in the model config and the task/control tokens.
    pub suppress: Vec<u32>,
    /// Suppressed at the first step only (a leading blank or an immediate end of text).
    pub suppress_at_begin: Vec<u32>,
}

impl SpecialTokens {
    pub fn from_tokenizer(
        tok: &Tokenizer,
        config_suppress: &[u32],
        vocab_size: usize,
    ) -> Result<Self, AsrError> {
        let id = |s: &str| tok.token_to_id(s);
        let need =
            |s: &str| id(s).ok_or_else(|| AsrError::Model(format!("tokenizer has no {s} token")));
        let no_timestamps = need("<|notimestamps|>")?;
        let sot = need("<|startoftranscript|>")?;
        let eot = need("<|endoftext|>")?;
        let sot_prev = need("<|startofprev|>")?;
        let no_speech = id("<|nospeech|>").or_else(|| id("<|nocaptions|>"));
        let transcribe = id("<|transcribe|>");
        let translate = id("<|translate|>");
        let sot_lm = id("<|startoflm|>");
        let multilingual = vocab_size >= 51865;
        let languages = if multilingual {
            // Language tokens sit right after <|startoftranscript|> up to <|translate|>.
            let end = translate.unwrap_or(sot + 1);
            (sot + 1..end)
                .filter_map(|i| {
                    let t = tok.id_to_token(i)?;
                    let code = t.strip_prefix("<|")?.strip_suffix("|>")?.to_string();
                    Some((code, i))
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut suppress: Vec<u32> = config_suppress.to_vec();
        suppress.extend(
            [transcribe, translate, Some(sot), Some(sot_prev), sot_lm, no_speech]
                .into_iter()
                .flatten(),
        );
        suppress.extend(languages.iter().map(|(_, i)| *i));
        suppress.sort_unstable();
        suppress.dedup();
        let mut suppress_at_begin: Vec<u32> =
            tok.encode(" ", false).map(|e| e.get_ids().to_vec()).unwrap_or_default();
        suppress_at_begin.push(eot);
        Ok(Self {
            eot,
            sot,
            sot_prev,
            no_timestamps,
            timestamp_begin: no_timestamps + 1,
            no_speech,
            transcribe,
            languages,
            suppress,
            suppress_at_begin,
        })
    }

    pub fn is_multilingual(&self) -> bool {
        !self.languages.is_empty()
    }

    pub fn language(&self, code: &str) -> Option<u32> {
        self.languages.iter().find(|(c, _)| c == code).map(|(_, i)| *i)
    }

    /// The tokens that open a transcription window (after any previous-text prompt).
    pub fn sot_sequence(&self, language: Option<u32>) -> Vec<u32> {
        let mut seq = vec![self.sot];
        if self.is_multilingual() {
            seq.extend(language);
            seq.extend(self.transcribe);
        }
        seq
    }
}
