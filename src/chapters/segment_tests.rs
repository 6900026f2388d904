use super::*;
use crate::chunk::Sentence;

/// A sentence every 10 s; `topic` picks its embedding direction (with a little variation), the
/// host asks a question at each topic's start and the guest talks otherwise.
fn conversation(topics: &[usize], per_topic: usize) -> (Vec<Line>, Vec<bool>) {
    let mut lines = Vec::new();
    let mut paragraph = Vec::new();
    let mut turn = 0;
    for &topic in topics {
        for k in 0..per_topic {
            let start = lines.len() as f64 * 10.0;
            let asks = k == 0;
            if k <= 1 {
                turn += 1;
            }
            let (speaker, text) = if asks {
                ("Host", format!("So what about topic number {topic} then?"))
            } else {
                ("Guest", format!("Here is a longer statement number {k} about topic {topic}."))
            };
            let mut vector = vec![0.0f32; 8];
            vector[topic] = 1.0;
            vector[7] = ((k % 3) as f32) * 0.2;
            let n = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            vector.iter_mut().for_each(|x| *x /= n);
            lines.push(Line {
                episode: 0,
                sentence: Sentence {
                    text,
                    start,
                    end: start + 10.0,
                    speaker: Some(speaker.into()),
                    turn,
                    ..Default::default()
                },
                filler: None,
                specificity: 0.5,
                centrality: 0.5,
                score: 0.5,
                vector,
            });
            paragraph.push(k <= 1 || k % 6 == 0);
        }
    }
    (lines, paragraph)
}

#[test]
fn the_places_the_subject_changes_are_chosen() {
    let (lines, paragraph) = conversation(&[0, 1, 2], 60);
    let cuts = boundaries(&lines, &paragraph, &SegmentOptions::default());
    assert!(cuts.contains(&60) && cuts.contains(&120), "{cuts:?}");
    // 30 minutes at one chapter per five: six chapters, so five boundaries.
    assert_eq!(cuts.len(), 5, "{cuts:?}");
}

#[test]
fn boundaries_keep_their_distance_and_leave_the_opening_alone() {
    let (lines, paragraph) = conversation(&[0, 1, 2, 3, 4, 5], 12);
    let opts = SegmentOptions::default();
    let cuts = boundaries(&lines, &paragraph, &opts);
    let t: Vec<f64> = cuts.iter().map(|&i| lines[i].sentence.start).collect();
    assert!(t.iter().all(|&t| t >= opts.first), "{t:?}");
    assert!(t.windows(2).all(|w| w[1] - w[0] >= opts.min_len), "{t:?}");
    assert!(cuts.iter().all(|&i| paragraph[i]), "only at paragraph starts here: {cuts:?}");
}

#[test]
fn a_short_text_gets_no_boundary_it_has_no_room_for() {
    let (lines, paragraph) = conversation(&[0, 1], 3);
    assert!(boundaries(&lines, &paragraph, &SegmentOptions::default()).is_empty());
    assert!(boundaries(&[], &[], &SegmentOptions::default()).is_empty());
}
