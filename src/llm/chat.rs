//! Chat prompts rendered with the model's own Jinja chat template.
//!
//! An instruct model only follows instructions in the exact turn format it was tuned on, and the
//! GGUF carries that format as a Hugging Face Jinja template (`tokenizer.chat_template`). We
//! render it the way Hugging Face and llama-cpp-python do (jinja2 with `trim_blocks` and
//! `lstrip_blocks`, Python string methods, `raise_exception`), so the prompt is byte for byte the
//! one the model expects, including defaults a template adds itself, such as Qwen2.5's system
//! prompt. A per-model override (models.toml) wins over the GGUF's template; ChatML is the
//! fallback when there is neither, since it is what most small instruct models use.

use std::collections::BTreeMap;

use candle_core::quantized::gguf_file::Content;
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, Value};

/// ChatML, as Qwen and SmolLM use it, without any default system prompt.
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}\
{{ '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}\
{% endfor %}\
{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const TEMPLATE_NAME: &str = "chat";

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("the {0} chat template does not compile")]
    Compile(TemplateSource, #[source] minijinja::Error),
    #[error("the {0} chat template failed to render")]
    Render(TemplateSource, #[source] minijinja::Error),
    #[error("the GGUF metadata `{key}` is malformed: {detail}")]
    Malformed { key: &'static str, detail: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`; templates decide what other roles mean.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self { role: role.into(), content: content.into() }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}

/// Where the template in use came from, so a caller can say so (a fallback deserves a warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateSource {
    Override,
    Gguf,
    ChatMl,
}

impl std::fmt::Display for TemplateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Override => "configured",
            Self::Gguf => "GGUF",
            Self::ChatMl => "fallback ChatML",
        })
    }
}

/// A compiled chat template: compiled once when a model loads, so a broken template fails then
/// rather than at the first prompt.
pub struct ChatTemplate {
    env: Environment<'static>,
    source: TemplateSource,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate").field("source", &self.source).finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// `bos_token` and `eos_token` are the texts templates may print (`{{ bos_token }}`).
    pub fn new(
        template: &str,
        source: TemplateSource,
        bos_token: &str,
        eos_token: &str,
    ) -> Result<Self, ChatError> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build();
        env.set_syntax(syntax.map_err(|e| ChatError::Compile(source, e))?);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> Result<Value, minijinja::Error> {
            Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_template_owned(TEMPLATE_NAME, template.to_string())
            .map_err(|e| ChatError::Compile(source, e))?;
        Ok(Self { env, source, bos_token: bos_token.into(), eos_token: eos_token.into() })
    }

    /// The override if there is one, else the GGUF's `tokenizer.chat_template`, else ChatML.
    pub fn from_gguf(ct: &Content, override_template: Option<&str>) -> Result<Self, ChatError> {
        let bos = token_text(ct, "tokenizer.ggml.bos_token_id")?;
        let eos = token_text(ct, "tokenizer.ggml.eos_token_id")?;
        let gguf = ct.metadata.get("tokenizer.chat_template").map(|t| t.to_string());
        let gguf = gguf.transpose().map_err(|e| malformed("tokenizer.chat_template", e))?;
        let (template, source) = match (override_template, gguf) {
            (Some(t), _) => (t, TemplateSource::Override),
            (None, Some(t)) => (t.as_str(), TemplateSource::Gguf),
            (None, None) => (CHATML_TEMPLATE, TemplateSource::ChatMl),
        };
        Self::new(template, source, &bos, &eos)
    }

    pub fn source(&self) -> TemplateSource {
        self.source
    }

    /// The prompt text; with `add_generation_prompt` it ends with the assistant's turn opened.
    /// Encode it with special-token parsing on, since it contains the turn markers as text.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        let render_err = |e| ChatError::Render(self.source, e);
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| {
                let mut map = BTreeMap::new();
                map.insert("role", Value::from(m.role.as_str()));
                map.insert("content", Value::from(m.content.as_str()));
                Value::from(map)
            })
            .collect();
        let template = self.env.get_template(TEMPLATE_NAME).map_err(render_err)?;
        let ctx = minijinja::context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.as_str(),
            eos_token => self.eos_token.as_str(),
        };
        template.render(ctx).map_err(render_err)
    }
}

/// The text of the token whose id is under `id_key`, for `{{ bos_token }}`; empty if none.
fn token_text(ct: &Content, id_key: &'static str) -> Result<String, ChatError> {
    const TOKENS: &str = "tokenizer.ggml.tokens";
    let Some(id) = ct.metadata.get(id_key) else { return Ok(String::new()) };
    let id = id.to_u64().map_err(|e| malformed(id_key, e))?;
    let Some(tokens) = ct.metadata.get(TOKENS) else { return Ok(String::new()) };
    let tokens = tokens.to_vec().map_err(|e| malformed(TOKENS, e))?;
    match usize::try_from(id).ok().and_then(|id| tokens.get(id)) {
        Some(text) => Ok(text.to_string().map_err(|e| malformed(TOKENS, e))?.clone()),
        None => Ok(String::new()),
    }
}

fn malformed(key: &'static str, detail: impl ToString) -> ChatError {
    ChatError::Malformed { key, detail: detail.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gguf(name: &str) -> Option<Content> {
        let path = crate::models::stored_for_test(name, "model.gguf");
        let mut file = std::fs::File::open(&path).expect("open the GGUF");
        Some(Content::read(&mut file).expect("read the GGUF metadata"))
    }

    fn chat(turns: &[(&str, &str)]) -> Vec<ChatMessage> {
        turns.iter().map(|(role, content)| ChatMessage::new(*role, *content)).collect()
    }

    const QWEN_SYSTEM: &str =
        "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    const SMOLLM_SYSTEM: &str =
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

    fn chatml(system: &str, rest: &str) -> String {
        format!("<|im_start|>system\n{system}<|im_end|>\n{rest}")
    }

    /// Expected texts were checked against jinja2 (as llama-cpp-python and Hugging Face render).
    #[test]
    fn model_templates_render_chatml_with_their_default_system_prompts() {
        let podcast = "Summarize: we talked about bees.\n  Indented line.";
        let user = format!("<|im_start|>user\n{podcast}<|im_end|>\n");
        let open = "<|im_start|>assistant\n";
        for (name, system) in
            [("qwen2.5-coder-0.5b-instruct", QWEN_SYSTEM), ("smollm2-135m-instruct", SMOLLM_SYSTEM)]
        {
            let Some(ct) = gguf(name) else { continue };
            let template = ChatTemplate::from_gguf(&ct, None).expect("template");
            assert_eq!(template.source(), TemplateSource::Gguf);
            let render = |turns: &[(&str, &str)], open_turn| {
                template.render(&chat(turns), open_turn).expect("render")
            };
            assert_eq!(
                render(&[("user", podcast)], true),
                chatml(system, &format!("{user}{open}"))
            );
            assert_eq!(render(&[("user", podcast)], false), chatml(system, &user));
            let own = [("system", "You write briefs."), ("user", podcast)];
            assert_eq!(render(&own, true), chatml("You write briefs.", &format!("{user}{open}")));
            let turns = [("user", "Hi"), ("assistant", "Hello!"), ("user", podcast)];
            let rest = format!("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n{user}{open}");
            assert_eq!(render(&turns, true), chatml(system, &rest), "{name}");
        }
    }

    #[test]
    fn override_wins_and_chatml_is_the_fallback() {
        let turns = chat(&[("user", "Hi")]);
        let override_template =
            "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}";
        if let Some(ct) = gguf("smollm2-135m-instruct") {
            let template = ChatTemplate::from_gguf(&ct, Some(override_template)).expect("template");
            assert_eq!(template.source(), TemplateSource::Override);
            assert_eq!(template.render(&turns, true).expect("render"), "<|im_start|>[user] Hi");
        }
        let empty = Content::read(&mut std::io::Cursor::new(minimal_gguf())).expect("empty GGUF");
        let template = ChatTemplate::from_gguf(&empty, None).expect("template");
        assert_eq!(template.source(), TemplateSource::ChatMl);
        let text = template.render(&turns, true).expect("render");
        assert_eq!(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    /// A GGUF v3 header with no tensors and no metadata.
    fn minimal_gguf() -> Vec<u8> {
        let mut bytes = b"GGUF".to_vec();
        bytes.extend(3u32.to_le_bytes());
        bytes.extend(0u64.to_le_bytes());
        bytes.extend(0u64.to_le_bytes());
        bytes
    }

    #[test]
    fn templates_get_python_methods_and_raise_exception() {
        let source = "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}\
            {{ raise_exception('Unknown role: ' + m.role) }}{% endif %}\
            {{ m.content.strip().upper() }}{% endfor %}";
        let template =
            ChatTemplate::new(source, TemplateSource::Override, "", "").expect("compile");
        let text = template.render(&chat(&[("user", "  hi there ")]), true).expect("render");
        assert_eq!(text, "HI THERE");
        let err = template.render(&chat(&[("tool", "x")]), true).expect_err("an exception");
        let chain = format!("{err}: {}", std::error::Error::source(&err).expect("a cause"));
        assert!(chain.contains("Unknown role: tool"), "{chain}");
    }

    #[test]
    fn broken_templates_fail_when_compiled() {
        let err = ChatTemplate::new("{% for m in messages %}", TemplateSource::Override, "", "");
        assert!(matches!(err, Err(ChatError::Compile(TemplateSource::Override, _))));
    }
}
