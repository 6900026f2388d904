use super::*;

/// The ID3 tags ffmpeg 5 writes for two chapters (`-map_chapters`, `-id3v2_version 3` and `4`).
fn fixture(version: u8) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
    std::fs::read(dir.join(format!("chapters-id3v2{version}.tag"))).unwrap()
}

fn file(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ep.mp3");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[test]
fn chapters_written_by_ffmpeg_are_read_in_both_tag_versions() {
    for version in [3, 4] {
        let mut bytes = fixture(version);
        bytes.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]); // the audio that would follow
        let (_d, path) = file(&bytes);
        let got = id3_chapters(&path).unwrap();
        let want = vec![
            FileChapter { start: 0.0, end: 60.0, title: "Cold open".into() },
            FileChapter { start: 60.0, end: 183.0, title: "Tomatoes in small gardens".into() },
        ];
        assert_eq!(got, want, "ID3v2.{version}");
    }
}

#[test]
fn titles_in_utf16_and_untitled_chapters_are_read() {
    let title: Vec<u8> = [1u8, 0xFF, 0xFE]
        .into_iter()
        .chain("Négociation".encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    let sub = [b"TIT2".as_slice(), &(title.len() as u32).to_be_bytes(), &[0, 0], &title].concat();
    let chap = |id: &[u8], start: u32, sub: &[u8]| {
        let body = [id, &[0], &start.to_be_bytes(), &(start + 5000).to_be_bytes(), &[0xFF; 8], sub]
            .concat();
        [b"CHAP".as_slice(), &(body.len() as u32).to_be_bytes(), &[0, 0], &body].concat()
    };
    let frames = [chap(b"b", 5000, &[]), chap(b"a", 0, &sub)].concat();
    let n = frames.len() as u32;
    let size =
        [(n >> 21) as u8 & 0x7F, (n >> 14) as u8 & 0x7F, (n >> 7) as u8 & 0x7F, n as u8 & 0x7F];
    let (_d, path) = file(&[b"ID3\x03\x00\x00".as_slice(), &size, &frames].concat());
    let got = id3_chapters(&path).unwrap();
    assert_eq!(got[0].title, "Négociation");
    assert_eq!((got[1].start, got[1].title.as_str()), (5.0, "b"), "sorted, the ID as title");
}

#[test]
fn no_tag_means_no_chapters_and_a_broken_tag_is_an_error() {
    let (_d, path) = file(&[0xFF, 0xFB, 0x90, 0x00, 1, 2, 3]);
    assert!(id3_chapters(&path).unwrap().is_empty());
    let mut broken = fixture(4);
    broken.truncate(120); // the tag says 200 bytes follow
    let (_d, path) = file(&broken);
    let err = id3_chapters(&path).unwrap_err().to_string();
    assert!(err.contains("ep.mp3"), "{err}");
}
