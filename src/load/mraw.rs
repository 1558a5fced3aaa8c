//! Photron FASTCAM recordings: a `.mraw` file of raw frames, back to back, described by a
//! `.cih` header (text, `Key : Value` lines) or a `.cihx` header (XML after a binary
//! preamble) of the same name. 8-bit and 16-bit frames are memory-mapped; 12-bit frames
//! (two samples packed in three bytes, most significant bit first) are unpacked to u16.
//! Values stay as recorded: a 12-bit camera writing 16-bit samples keeps its 0..4095.

use std::path::{Path, PathBuf};

use super::guard::Budget;
use super::raw::{self, FramePlaces, RawLayout, Sample};
use super::{LoadError, LoadOptions, Plan, SourceKind, ext_of_path};

fn err(path: &Path, msg: impl std::fmt::Display) -> LoadError {
    LoadError::decode(path, format!("Photron header: {msg}"))
}

/// What a `.cih`/`.cihx` header says about its recording.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cih {
    pub width: usize,
    pub height: usize,
    pub frames: usize,
    pub fps: Option<f64>,
    /// `Mono`, `Color`, `Raw`, ...
    pub color_type: String,
    /// Bits per pixel in the file: 8, 12 or 16 (mono), 24 or 48 (RGB).
    pub color_bit: usize,
    pub effective_bits: Option<usize>,
    /// `Lower` or `Higher`: where the effective bits sit in a 16-bit sample.
    pub effective_side: String,
    pub file_format: String,
    /// Frame number of the first saved frame (the trigger is frame 0).
    pub start_frame: i64,
}

/// The value of `key` in `Key : Value` lines.
fn cih_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim())
    })
}

/// The text of the element at `path` (each name nested in the one before).
fn xml_value<'a>(xml: &'a str, path: &[&str]) -> Option<&'a str> {
    let mut s = xml;
    for name in path {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let a = s.find(&open)? + open.len();
        let b = s[a..].find(&close)? + a;
        s = &s[a..b];
    }
    Some(s.trim())
}

fn num<T: std::str::FromStr>(v: Option<&str>) -> Option<T> {
    v.and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Parses a `.cih` text header.
pub fn parse_cih(path: &Path, text: &str) -> Result<Cih, LoadError> {
    let get = |k: &str| cih_value(text, k);
    let need = |k: &str| num::<usize>(get(k)).ok_or_else(|| err(path, format!("no valid '{k}'")));
    Ok(Cih {
        width: need("Image Width")?,
        height: need("Image Height")?,
        frames: need("Total Frame")?,
        fps: num::<f64>(get("Record Rate(fps)")).filter(|r| *r > 0.0),
        color_type: get("Color Type").unwrap_or("Mono").to_string(),
        color_bit: need("Color Bit")?,
        effective_bits: num(get("EffectiveBit Depth")),
        effective_side: get("EffectiveBit Side").unwrap_or("Lower").to_string(),
        file_format: get("File Format").unwrap_or("MRaw").to_string(),
        start_frame: num(get("Start Frame")).unwrap_or(0),
    })
}

/// Parses a `.cihx` header: XML between `<cih>` and `</cih>`, after a binary preamble.
pub fn parse_cihx(path: &Path, bytes: &[u8]) -> Result<Cih, LoadError> {
    let find = |pat: &[u8]| bytes.windows(pat.len()).position(|w| w == pat);
    let (Some(a), Some(b)) = (find(b"<cih>"), find(b"</cih>")) else {
        return Err(err(path, "no <cih> element: not a .cihx header"));
    };
    if b < a {
        return Err(err(path, "no <cih> element: not a .cihx header"));
    }
    let xml = String::from_utf8_lossy(&bytes[a..b + 6]);
    let get = |p: &[&str]| xml_value(&xml, p);
    let need = |p: &[&str]| {
        num::<usize>(get(p)).ok_or_else(|| err(path, format!("no valid <{}>", p.join("><"))))
    };
    Ok(Cih {
        width: need(&["imageDataInfo", "resolution", "width"])?,
        height: need(&["imageDataInfo", "resolution", "height"])?,
        frames: need(&["frameInfo", "totalFrame"])?,
        fps: num::<f64>(get(&["recordInfo", "recordRate"])).filter(|r| *r > 0.0),
        color_type: get(&["imageDataInfo", "colorInfo", "type"])
            .unwrap_or("Mono")
            .to_string(),
        color_bit: need(&["imageDataInfo", "colorInfo", "bit"])?,
        effective_bits: num(get(&["imageDataInfo", "effectiveBit", "depth"])),
        effective_side: get(&["imageDataInfo", "effectiveBit", "side"])
            .unwrap_or("Lower")
            .to_string(),
        file_format: get(&["imageFileInfo", "fileFormat"])
            .unwrap_or("MRaw")
            .to_string(),
        start_frame: num(get(&["frameInfo", "startFrame"])).unwrap_or(0),
    })
}

/// The first of `candidates` that exists.
fn first_existing(candidates: impl IntoIterator<Item = PathBuf>) -> Option<PathBuf> {
    candidates.into_iter().find(|p| p.is_file())
}

fn with_exts(path: &Path, exts: &[&str]) -> Vec<PathBuf> {
    exts.iter().map(|e| path.with_extension(e)).collect()
}

/// The header and data files for `path` (either of them).
pub fn pair(path: &Path) -> Result<(PathBuf, PathBuf), LoadError> {
    match ext_of_path(path).as_str() {
        "mraw" => {
            let tried = with_exts(path, &["cihx", "cih", "CIHX", "CIH"]);
            let header = first_existing(tried.clone()).ok_or_else(|| {
                LoadError::decode(
                    path,
                    format!(
                        "no Photron header next to it (looked for {} and {})",
                        tried[0].display(),
                        tried[1].display()
                    ),
                )
            })?;
            Ok((header, path.to_path_buf()))
        }
        _ => {
            let tried = with_exts(path, &["mraw", "MRAW"]);
            let data = first_existing(tried.clone()).ok_or_else(|| {
                LoadError::decode(
                    &tried[0],
                    format!(
                        "no such file: the image data of the header {}",
                        path.display()
                    ),
                )
            })?;
            Ok((path.to_path_buf(), data))
        }
    }
}

/// Reads the header of `cih` (a `.cih` or `.cihx` file).
pub fn read_cih(cih: &Path) -> Result<Cih, LoadError> {
    use std::io::Read;
    let mut f = std::fs::File::open(cih).map_err(|e| LoadError::io(cih, e))?;
    // headers are a few kB (a .cihx with its LUTs some tens): never read a big file whole
    let mut bytes = Vec::new();
    f.by_ref()
        .take(1 << 20)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::io(cih, e))?;
    if ext_of_path(cih) == "cihx" || bytes.windows(5).any(|w| w == b"<cih>") {
        parse_cihx(cih, &bytes)
    } else {
        parse_cih(cih, &String::from_utf8_lossy(&bytes))
    }
}

/// The layout of the frames in `data` as the header `h` of `cih` describes them.
pub fn layout(cih: &Path, data: &Path, h: &Cih) -> Result<RawLayout, LoadError> {
    if !h.file_format.eq_ignore_ascii_case("mraw") {
        return Err(LoadError::Unsupported {
            path: cih.to_path_buf(),
            hint: format!(
                " (a Photron header for '{}' files; only .mraw recordings are read here)",
                h.file_format
            ),
        });
    }
    let color = !h.color_type.eq_ignore_ascii_case("mono");
    let (sample, c) = match h.color_bit {
        8 => (Sample::U8, 1),
        12 => (Sample::Packed12, 1),
        16 => (Sample::U16 { be: false }, 1),
        24 if color => (Sample::U8, 3),
        48 if color => (Sample::U16 { be: false }, 3),
        b => {
            return Err(LoadError::Unsupported {
                path: cih.to_path_buf(),
                hint: format!(
                    " (Photron {} recording with {b} bits per pixel; read are 8, 12, 16-bit mono and 24, 48-bit colour)",
                    h.color_type
                ),
            });
        }
    };
    let row = h
        .width
        .checked_mul(c)
        .and_then(|n| raw::packed_len(n, sample))
        .ok_or_else(|| {
            err(
                cih,
                format!(
                    "{} samples of {} bits per row do not end on a byte",
                    h.width,
                    sample.bits()
                ),
            )
        })?;
    let len = std::fs::metadata(data)
        .map_err(|e| LoadError::io(data, e))?
        .len();
    let frame_bytes = (row as u64)
        .checked_mul(h.height as u64)
        .filter(|&b| b > 0)
        .ok_or_else(|| err(cih, format!("frame size {} x {}", h.width, h.height)))?;
    let (whole, lost) = raw::whole_frames(
        data,
        h.frames,
        0,
        frame_bytes,
        len,
        &format!("the header {}", cih.display()),
    )?;
    let depth = match h.effective_bits {
        Some(e) if e < sample.bits() && c == 1 => format!(
            "{e}-bit samples in {}-bit words ({} bits)",
            sample.bits(),
            h.effective_side.to_ascii_lowercase()
        ),
        _ if sample == Sample::Packed12 => "12-bit samples (packed)".to_string(),
        _ => format!("{}-bit samples", h.color_bit / c),
    };
    let mut notes = vec![format!(
        "Photron mraw: {}, {depth}{}, header {}",
        if c == 3 { "RGB" } else { "mono" },
        h.fps.map(|r| format!(", {r} frames/s")).unwrap_or_default(),
        cih.display()
    )];
    if color && c == 1 {
        notes.push(format!(
            "colour type '{}' with {} bits: the samples are the sensor's colour-filter mosaic, not demosaiced",
            h.color_type, h.color_bit
        ));
    }
    notes.extend(lost);
    let times = match h.fps {
        Some(fps) => (0..whole)
            .map(|i| (h.start_frame as f64 + i as f64) / fps)
            .collect(),
        None => Vec::new(),
    };
    Ok(RawLayout {
        kind: SourceKind::Mraw,
        h: h.height,
        w: h.width,
        c,
        sample,
        bgr: false,
        bottom_up: false,
        row_stride: row,
        places: FramePlaces::Strided {
            offset: 0,
            stride: frame_bytes,
        },
        frames: whole,
        scale: None,
        fps: h.fps,
        times,
        notes,
        copy_reason: (h.color_bit == 12)
            .then(|| "12-bit samples are packed two in three bytes".to_string()),
    })
}

/// Plans the load of a Photron recording given its header or its `.mraw`; the plan's
/// path is the `.mraw`.
pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    let (cih, data) = pair(path)?;
    let h = read_cih(&cih)?;
    // the plan names the data file: its identity keys the disk cache
    raw::plan(&data, layout(&cih, &data, &h)?, opts, budget)
}
