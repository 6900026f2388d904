use super::*;

/// Sentences of ten seconds each; a new `turn` number starts with each `|` in `turns`.
fn sentences(turns: &[&[&str]]) -> Vec<Sentence> {
    let mut out = Vec::new();
    for (turn, texts) in turns.iter().enumerate() {
        for t in *texts {
            let start = out.len() as f64 * 10.0;
            out.push(Sentence {
                text: t.to_string(),
                start,
                end: start + 10.0,
                turn,
                ..Default::default()
            });
        }
    }
    out
}

#[test]
fn a_mid_roll_read_is_one_span_with_its_sponsor_and_pitch() {
    let s = sentences(&[
        &["Memory safety bugs are most of Microsoft's security fixes.", "That is why teams pick Rust."],
        &[
            "This episode is brought to you by Typewell, the keyboard built for people who type all day.",
            "Typewell keyboards have quiet switches and a split layout that is easy on your wrists.",
            "Use code COMMIT at checkout for twenty percent off your first order.",
        ],
        &["Back in twenty sixteen, a developer removed a tiny package from the index."],
    ]);
    let ads = find(&s);
    assert_eq!(ads.len(), 1, "{ads:?}");
    assert_eq!((ads[0].first, ads[0].last), (2, 4));
    assert_eq!((ads[0].start, ads[0].end), (20.0, 50.0));
    assert_eq!(ads[0].sponsor.as_deref(), Some("Typewell"));
}

#[test]
fn the_pitch_before_the_promo_code_and_the_handback_belong_to_the_read() {
    let s = sentences(&[
        &["Grid batteries now shift solar power into the evening peak."],
        &[
            "Before we go on, a quick word from our sponsor, Brightline.",
            "Brightline makes scheduling software for clinics.",
            "Their customers cut no-shows by a third in the first year.",
            "Head to brightline dot com slash watts and use code WATTS for a free month.",
            "And now back to the show.",
        ],
        &["So where were we on batteries?"],
    ]);
    let ads = find(&s);
    assert_eq!(ads.len(), 1, "{ads:?}");
    assert_eq!((ads[0].first, ads[0].last), (1, 5));
    assert_eq!(ads[0].sponsor.as_deref(), Some("Brightline"));
}

#[test]
fn conversation_with_pitch_words_is_not_an_ad() {
    let s = sentences(&[
        &["You should check out the Go blog post on generics, it is a good offer of examples."],
        &["Visit the docs and go to the tutorial, because it explains why the design changed."],
    ]);
    assert!(find(&s).is_empty());
}

#[test]
fn the_next_speaker_does_not_join_a_read_by_using_a_pitch_word() {
    let s = sentences(&[
        &["This show is sponsored by Acme Cloud.", "Sign up at acme dot io for free credits."],
        &["Let's go to the next question, which is about testing generated code."],
    ]);
    let ads = find(&s);
    assert_eq!(ads.len(), 1);
    assert_eq!((ads[0].first, ads[0].last), (0, 1));
    assert_eq!(ads[0].sponsor.as_deref(), Some("Acme Cloud"));
}

#[test]
fn a_sponsor_is_never_guessed() {
    let s =
        sentences(&[&["Use code PODS for ten percent off.", "That's pods dot com slash save."]]);
    let ads = find(&s);
    assert_eq!(ads.len(), 1);
    assert_eq!(ads[0].sponsor, None);
}

#[test]
fn a_web_address_in_conversation_is_not_a_read() {
    let s = sentences(&[
        &["There is a package by Dave on github.com/dave called dst, and it keeps comments."],
        &["That's the one I use, because it decorates the syntax tree."],
    ]);
    assert!(find(&s).is_empty(), "{:?}", find(&s));
}

#[test]
fn a_read_without_the_usual_words_is_found_by_its_web_address() {
    // As Whisper wrote a real mid-roll: "Support" became "The port".
    let s = sentences(&[
        &["That is a pattern I like because you never have to guess a time to live."],
        &[
            "The port for this show comes from Tidewater Macron Jump Q4 Postkers.",
            "Tidewater runs your jobs inside your existing database, so there is no new server.",
            "Head to tidewater dot dev and use code BUILD for three months free.",
        ],
        &["And we are back."],
    ]);
    let ads = find(&s);
    assert_eq!(ads.len(), 1, "{ads:?}");
    assert_eq!((ads[0].first, ads[0].last), (1, 3));
    assert_eq!(ads[0].sponsor.as_deref(), Some("Tidewater"));
}
