//! What a file with an unknown extension is, from its first bytes: the extension of the
//! loader that reads it. Only files whose bytes look like a video container go to FFmpeg,
//! so a text or binary file FFmpeg would misread (its `tty` demuxer renders any text as a
//! picture) gets a clear error instead.

use std::io::Read;
use std::path::Path;

use super::LoadError;

/// The hint of the error for a file no loader reads.
pub const HINT: &str = " (not an image, TIFF, .npy, video, Phantom .cine, Photron .cih/.cihx/.mraw, \
     Princeton .spe, FITS or ASCII grid (.asc, .dat, numeric .txt))";

/// Audio containers: FFmpeg opens them and says they hold no video stream.
pub const AUDIO_EXTS: &[&str] = &[
    "wav", "mka", "mp3", "flac", "ogg", "oga", "opus", "m4a", "aac", "wma",
];

/// The extension whose loader reads a file starting with `head`, if any.
pub fn kind_of(head: &[u8]) -> Option<&'static str> {
    let at = |i: usize, pat: &[u8]| head.get(i..i + pat.len()) == Some(pat);
    let magic: &[(usize, &[u8], &'static str)] = &[
        (0, b"\x93NUMPY", "npy"),
        (0, b"II*\0", "tif"),
        (0, b"MM\0*", "tif"),
        (0, b"II+\0", "tif"),
        (0, b"MM\0+", "tif"),
        (0, b"\x89PNG\r\n\x1a\n", "png"),
        (0, b"\xff\xd8\xff", "jpg"),
        (0, b"BM", "bmp"),
        (8, b"WEBP", "webp"),
        (0, b"SIMPLE  =", "fits"),
        (4, b"ftyp", "mp4"),
        (8, b"AVI ", "avi"),
        (8, b"WAVE", "wav"),
        (0, b"\x1a\x45\xdf\xa3", "mkv"),
        (0, b"\0\0\x01\xba", "mpg"),
        (0, b"\0\0\x01\xb3", "mpg"),
        (0, b"FLV", "flv"),
        (0, b"OggS", "ogv"),
        (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "wmv"),
        (0, b"GIF8", "gif"),
        (0, b"YUV4MPEG2", "y4m"),
    ];
    if let Some((_, _, k)) = magic.iter().find(|(i, pat, _)| at(*i, pat)) {
        return Some(k);
    }
    if super::cine::sniff(head) {
        return Some("cine");
    }
    // MPEG transport stream: a sync byte every 188 bytes
    if head.len() > 376 && head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47 {
        return Some("ts");
    }
    if head.len() >= 4100 && head[4098] == 0x55 && head[4099] == 0x55 {
        return Some("spe");
    }
    if head.windows(5).any(|w| w == b"<cih>") || head.starts_with(b"!!! This file") {
        return Some("cihx");
    }
    if head.starts_with(b"#Camera Information Header") {
        return Some("cih");
    }
    let text = !head.is_empty()
        && head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r') || b >= 0x80);
    text.then_some("txt")
}

/// The extension whose loader reads the file at `path`, from its first 4 kB.
pub fn kind(path: &Path) -> Result<Option<&'static str>, LoadError> {
    let f = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let mut head = Vec::new();
    f.take(4100)
        .read_to_end(&mut head)
        .map_err(|e| LoadError::io(path, e))?;
    Ok(kind_of(&head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_name_their_loader() {
        assert_eq!(kind_of(b"\x93NUMPY\x01\x00"), Some("npy"));
        assert_eq!(kind_of(b"\0\0\0\x20ftypisom"), Some("mp4"));
        assert_eq!(kind_of(b"RIFF\0\0\0\0AVI LIST"), Some("avi"));
        assert_eq!(kind_of(b"SIMPLE  =                    T"), Some("fits"));
        assert_eq!(kind_of(b"CI\x2c\x00\x00\x00\x01\x00"), Some("cine"));
        assert_eq!(kind_of(b"1 2 3\n4 5 6\n"), Some("txt"));
        assert_eq!(kind_of(b"\x00\x01\x02\x03garbage"), None);
        assert_eq!(kind_of(b""), None);
    }
}
