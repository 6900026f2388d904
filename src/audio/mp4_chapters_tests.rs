use super::*;

/// jfk.m4a with two chapters, as ffmpeg 5 writes them (`-map_chapters -c copy`): both a
/// QuickTime chapter track and a Nero `chpl` list.
fn fixture() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
    std::fs::read(dir.join("chapters.m4a")).unwrap()
}

fn file(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ep.m4a");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// Renames the first box of type `from` to `free`, so a reader skips it as players would.
fn hide(bytes: &mut [u8], from: &[u8; 4]) {
    let at = bytes.windows(4).position(|w| w == from).expect("box present");
    bytes[at..at + 4].copy_from_slice(b"free");
}

fn titles(list: &[FileChapter]) -> Vec<(f64, &str)> {
    list.iter().map(|c| ((c.start * 1000.0).round() / 1000.0, c.title.as_str())).collect()
}

#[test]
fn both_kinds_and_each_alone_give_the_same_chapters() {
    let want = vec![(0.0, "Cold open"), (4.2, "Ask not — Café")];
    let (_d, path) = file(&fixture());
    let both = mp4_chapters(&path).unwrap();
    assert_eq!(titles(&both), want);
    assert!((both[0].end - 4.2).abs() < 1e-6, "a chapter ends where the next starts");
    assert!(
        both[1].end > 10.0 && both[1].end < 12.0,
        "the last ends with the file: {}",
        both[1].end
    );

    let mut quicktime_only = fixture();
    hide(&mut quicktime_only, b"chpl");
    let (_d, path) = file(&quicktime_only);
    assert_eq!(titles(&mp4_chapters(&path).unwrap()), want, "QuickTime chapter track alone");

    let mut nero_only = fixture();
    hide(&mut nero_only, b"tref");
    let (_d, path) = file(&nero_only);
    assert_eq!(titles(&mp4_chapters(&path).unwrap()), want, "Nero chpl alone");
}

#[test]
fn files_without_chapters_have_none_and_damage_is_reported() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
    assert!(mp4_chapters(&dir.join("jfk.m4a")).unwrap().is_empty());
    assert!(mp4_chapters(&dir.join("jfk.flac")).unwrap().is_empty(), "not an MP4 at all");

    // A chapter track that tref/chap names but that is gone.
    let mut bytes = fixture();
    let tref = bytes.windows(4).position(|w| w == b"tref").unwrap();
    let id = tref + 12; // tref header (8), chap header (8) minus 4: the first track ID
    bytes[id..id + 4].copy_from_slice(&99u32.to_be_bytes());
    let (_d, path) = file(&bytes);
    let err = mp4_chapters(&path).unwrap_err().to_string();
    assert!(err.contains("chapter track"), "{err}");
}
