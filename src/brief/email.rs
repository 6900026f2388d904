//! The brief as an email body: HTML with every style inline on its element.
//!
//! Mail clients drop `<style>` blocks, CSS variables and media queries (several webmail
//! clients strip the whole head), so the page rendering would arrive unstyled. This variant
//! repeats the same content with `style` attributes only, a fixed light palette, and no
//! images, scripts or links to fetch, so it reads the same in any client and never phones home.
//! Everything from transcripts and feeds is escaped, as in the page.

use super::html::{escape, footer, time};
use super::{Brief, Entry, RelatedKind};

const SANS: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";
const SERIF: &str = "font-family:Georgia,'Times New Roman',serif;";
const MUTED: &str = "color:#5f6368;";

pub(super) fn render(brief: &Brief) -> String {
    let title = escape(&brief.title);
    let mut out = String::with_capacity(8192);
    out.push_str("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{title}</title>\n</head>\n"));
    out.push_str(&format!(
        "<body style=\"margin:0;padding:0;background:#fdfdfb;\">\n<div style=\"max-width:640px;\
         margin:0 auto;padding:24px 16px;color:#1d1d1f;line-height:1.55;font-size:16px;{SERIF}\">\n"
    ));
    out.push_str(&format!(
        "<h1 style=\"{SANS}font-size:24px;line-height:1.25;margin:0 0 8px;\">{title}</h1>\n"
    ));
    if !brief.episodes.is_empty() {
        let list: Vec<String> = brief.episodes.iter().map(|e| escape(&e.title)).collect();
        out.push_str(&format!(
            "<p style=\"{SANS}{MUTED}font-size:13px;margin:0 0 4px;\">From: {}</p>\n",
            list.join("; ")
        ));
    }
    if !brief.interests.is_empty() {
        let list: Vec<String> = brief.interests.iter().map(|i| escape(i)).collect();
        out.push_str(&format!(
            "<p style=\"{SANS}{MUTED}font-size:13px;margin:0 0 4px;\">Interests: {}</p>\n",
            list.join(", ")
        ));
    }
    if brief.brief.is_empty() {
        out.push_str("<p><em>Nothing new today.</em></p>\n");
    }
    for entry in &brief.brief {
        entry_html(entry, &mut out);
    }
    for (episode, chapters) in super::outline(brief) {
        out.push_str(&format!(
            "<h2 style=\"{SANS}font-size:16px;margin:24px 0 4px;\">Outline: {}</h2>\n\
             <ul style=\"{SANS}font-size:14px;margin:0;padding-left:20px;\">\n",
            escape(&episode.title)
        ));
        for (c, entries) in chapters {
            let note = if c.sponsor { " (sponsor read)" } else { "" };
            out.push_str(&format!(
                "<li><span style=\"{MUTED}\">{}</span> {}{note}",
                time(c.start),
                escape(&c.title)
            ));
            for e in entries {
                out.push_str(&format!("<br>&nbsp;&nbsp;{}. {}", e.rank, escape(&e.headline)));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    out.push_str(&format!(
        "<p style=\"{SANS}{MUTED}font-size:12px;border-top:1px solid #d8d8d4;margin-top:24px;\
         padding-top:12px;\">{}</p>\n</div>\n</body>\n</html>\n",
        footer(brief)
    ));
    out
}

fn entry_html(entry: &Entry, out: &mut String) {
    out.push_str("<div style=\"border-top:1px solid #d8d8d4;padding:16px 0;\">\n");
    out.push_str(&format!(
        "<h2 style=\"{SANS}font-size:19px;line-height:1.35;margin:0 0 8px;\">\
         <span style=\"color:#8a4b08;\">{}.</span> {}</h2>\n",
        entry.rank,
        escape(&entry.headline)
    ));
    if !entry.text.trim().is_empty() {
        out.push_str(&format!("<p style=\"margin:0 0 8px;\">{}</p>\n", escape(&entry.text)));
    }
    let quote = if super::quote_is_headline(entry) {
        String::new()
    } else {
        format!("<p style=\"margin:0 0 4px;font-style:italic;\">{}</p>", escape(&entry.quote))
    };
    out.push_str(&format!(
        "<blockquote style=\"margin:8px 0;padding:8px 12px;background:#f3f1ea;\
         border-left:3px solid #8a4b08;\">{quote}\
         <p style=\"{SANS}{MUTED}font-size:13px;margin:0;\">— {}{}, {}{}</p></blockquote>\n",
        escape(&super::speaker_prefix(entry)),
        escape(&entry.episode),
        time(entry.start),
        super::edited_suffix(entry)
    ));
    if !entry.related.is_empty() {
        out.push_str(&format!(
            "<p style=\"{SANS}{MUTED}font-size:13px;margin:8px 0 2px;\">Related</p>\n\
             <ul style=\"margin:0;padding-left:20px;\">\n"
        ));
        for r in &entry.related {
            let kind = match r.kind {
                RelatedKind::Merged => "merged",
                RelatedKind::Nearby => "nearby",
            };
            out.push_str(&format!(
                "<li style=\"margin:2px 0;\">{} <span style=\"{SANS}{MUTED}font-size:13px;\">\
                 ({}, {}, {kind})</span></li>\n",
                escape(&r.text),
                escape(&r.episode),
                time(r.start)
            ));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</div>\n");
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check_nesting, sample};
    use super::super::Brief;

    #[test]
    fn email_html_has_inline_styles_only_and_is_escaped() {
        let html = super::render(&sample());
        let lower = html.to_lowercase();
        for banned in [
            "<style", "class=", "<script", "http://", "https://", "src=", "url(", "<link", "<img",
            "var(--",
        ] {
            assert!(!lower.contains(banned), "found {banned:?} in the mail body");
        }
        let escaped =
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; &#39;apostrophes&#39;";
        assert!(html.contains(escaped));
        assert!(html.contains("Sleep debt cannot be repaid on weekends"));
        assert!(lower.contains("<h2 style="));
        check_nesting(&html);
        let empty = super::render(&Brief { brief: vec![], rejected: vec![], ..sample() });
        assert!(empty.contains("Nothing new today."));
        check_nesting(&empty);
    }
}
