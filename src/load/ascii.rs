//! ASCII grids (spec §2.10): `.asc` and `.dat` always, `.txt` when it probes as a
//! matrix. One file is one frame; a folder of them is a stack (the most frequent grid
//! extension, natural order). Values are read as f64 and stored as f32, one channel.
//!
//! Parsing: UTF-8, else Latin-1; cells split on tabs, else commas, else semicolons, else
//! runs of spaces; a cell that is not a number (or is empty) is NaN; short rows are padded
//! with NaN. Leading lines without a single number (column titles) and an ESRI grid
//! header (`ncols`, `nrows`, ..., `NODATA_value`, whose value becomes NaN) are skipped. A
//! first column that counts the rows (0..n-1 or 1..n) is dropped, as BLITZ's dialog
//! pre-selects. `--8bit` scales 0..1 to 0..255; `--8bit --normalize` stretches the 2nd
//! to 98th percentile to 0..255; `--normalize` alone changes nothing (as in BLITZ).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::stack::{Dtype, Shape, SourceInfo, Stack};

use super::frame::{FramePipeline, RawData, RawFrame};
use super::guard::Budget;
use super::output::{OutBuf, Slot};
use super::{
    Detail, LoadError, LoadOptions, Plan, Progress, Selection, SourceKind, SrcDtype, guard,
};

/// Extensions always read as grids.
pub const GRID_EXTS: &[&str] = &["asc", "dat"];

/// Keys of an ESRI ASCII grid header.
const ESRI_KEYS: &[&str] = &[
    "ncols",
    "nrows",
    "xllcorner",
    "yllcorner",
    "xllcenter",
    "yllcenter",
    "cellsize",
    "dx",
    "dy",
    "nodata_value",
];

/// How the cells of a line are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delim {
    Tab,
    Comma,
    Semicolon,
    Space,
}

impl Delim {
    /// True when `line` ends with this delimiter (spaces never make a cell).
    fn ends(self, line: &str) -> bool {
        let l = line.trim_end_matches([' ', '\r', '\n']);
        match self {
            Delim::Tab => l.ends_with('\t'),
            Delim::Comma => l.ends_with(','),
            Delim::Semicolon => l.ends_with(';'),
            Delim::Space => false,
        }
    }

    fn split(self, line: &str) -> Vec<&str> {
        match self {
            Delim::Tab => line.split('\t').collect(),
            Delim::Comma => line.split(',').collect(),
            Delim::Semicolon => line.split(';').collect(),
            Delim::Space => line.split_whitespace().collect(),
        }
    }
}

/// One parsed grid: `h` rows of `w` values, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub h: usize,
    pub w: usize,
    pub values: Vec<f64>,
    /// What the parser skipped or dropped.
    pub notes: Vec<String>,
}

/// The file's text: UTF-8, else Latin-1 (every byte is a character).
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

fn cell(s: &str) -> f64 {
    s.trim().parse::<f64>().unwrap_or(f64::NAN)
}

/// The delimiter the data lines use.
pub fn detect_delim(text: &str) -> Delim {
    let lines = || text.lines().filter(|l| !l.trim().is_empty()).take(50);
    if lines().any(|l| l.contains('\t')) {
        Delim::Tab
    } else if lines().any(|l| l.contains(',')) {
        Delim::Comma
    } else if lines().any(|l| l.contains(';')) {
        Delim::Semicolon
    } else {
        Delim::Space
    }
}

/// Parses `text` with `delim`.
pub fn parse_with(text: &str, delim: Delim) -> Grid {
    let mut notes = Vec::new();
    let mut nodata = None;
    let mut esri = 0;
    let mut titles = 0;
    let mut all_trailing = true;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if rows.is_empty() {
            let mut words = line.split_whitespace();
            let key = words.next().unwrap_or("").to_ascii_lowercase();
            if ESRI_KEYS.contains(&key.as_str()) {
                if key == "nodata_value" {
                    nodata = words.next().map(cell).filter(|v| !v.is_nan());
                }
                esri += 1;
                continue;
            }
        }
        let row: Vec<f64> = delim.split(line).into_iter().map(cell).collect();
        all_trailing &= delim.ends(line);
        if rows.is_empty() && row.iter().all(|v| v.is_nan()) {
            titles += 1;
            continue;
        }
        rows.push(row);
    }
    if esri > 0 {
        notes.push(format!("skipped an ESRI grid header of {esri} line(s)"));
    }
    if titles > 0 {
        notes.push(format!("skipped {titles} leading line(s) without a number"));
    }
    // a delimiter at the end of every line leaves an empty last cell: not a column
    if all_trailing && !rows.is_empty() && rows.iter().all(|r| r.len() > 1) {
        rows.iter_mut().for_each(|r| {
            r.pop();
        });
    }
    let h = rows.len();
    let mut w = rows.iter().map(Vec::len).max().unwrap_or(0);
    let counts_from = |base: f64| {
        rows.iter()
            .enumerate()
            .all(|(i, r)| r.first() == Some(&(i as f64 + base)))
    };
    let counts = h >= 2 && w >= 2 && (counts_from(0.0) || counts_from(1.0));
    if counts {
        rows.iter_mut().for_each(|r| {
            r.remove(0);
        });
        w -= 1;
        notes.push("dropped the first column: it counts the rows".into());
    }
    let mut values = Vec::with_capacity(h * w);
    for r in &rows {
        values.extend(r.iter().map(|&v| match nodata {
            Some(n) if v == n => f64::NAN,
            _ => v,
        }));
        values.extend(std::iter::repeat_n(f64::NAN, w - r.len()));
    }
    Grid {
        h,
        w,
        values,
        notes,
    }
}

/// True when the grid is at least 2 x 2 with at least half its cells finite (the `.txt` probe).
fn is_matrix(g: &Grid) -> bool {
    g.h >= 2 && g.w >= 2 && g.values.iter().filter(|v| v.is_finite()).count() * 2 >= g.values.len()
}

/// Parses a grid with the delimiter its lines use.
pub fn parse(text: &str) -> Grid {
    parse_with(text, detect_delim(text))
}

/// True when `text` parses as a matrix with tabs, commas or spaces (spec §2.10 probe).
pub fn probe(text: &str) -> bool {
    [detect_delim(text), Delim::Tab, Delim::Comma, Delim::Space]
        .into_iter()
        .any(|d| is_matrix(&parse_with(text, d)))
}

fn read_grid(path: &Path) -> Result<Grid, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
    let text = decode_text(&bytes);
    let g = parse(&text);
    if g.h == 0 || g.w == 0 {
        return Err(LoadError::decode(
            path,
            "ASCII grid: no row of numbers in the file",
        ));
    }
    Ok(g)
}

/// True when a `.txt` file reads as a numeric matrix (a probe of its first 1 MB).
pub fn txt_probes(path: &Path) -> bool {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut bytes = Vec::new();
    if f.take(1 << 20).read_to_end(&mut bytes).is_err() {
        return false;
    }
    // a cut last line may be partial: probe whole lines only
    if bytes.len() == 1 << 20
        && let Some(end) = bytes.iter().rposition(|&b| b == b'\n')
    {
        bytes.truncate(end);
    }
    probe(&decode_text(&bytes))
}

/// What the grid loader needs after planning.
#[derive(Clone, Debug)]
pub struct AsciiPlan {
    /// Files in frame order with their index in the sorted list.
    files: Vec<(usize, PathBuf)>,
    h: usize,
    w: usize,
    pipeline: FramePipeline,
    /// `--8bit --normalize`: the 2nd..98th percentile stretch.
    stretch: bool,
}

/// The grid files of a folder: the most frequent of `.asc`/`.dat`, else the `.txt`
/// files when the first of them probes as a matrix.
pub fn folder_files(groups: &BTreeMap<String, Vec<PathBuf>>) -> Option<Vec<PathBuf>> {
    let best = groups
        .iter()
        .filter(|(e, _)| GRID_EXTS.contains(&e.as_str()))
        .max_by_key(|(e, v)| (v.len(), std::cmp::Reverse(e.to_string())));
    if let Some((_, v)) = best {
        return Some(v.clone());
    }
    let txt = groups.get("txt")?;
    let mut sorted = txt.clone();
    super::natural_sort(&mut sorted);
    txt_probes(sorted.first()?).then_some(sorted)
}

/// Plans the load of one grid file.
pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    plan_files(
        path.to_path_buf(),
        vec![path.to_path_buf()],
        SourceKind::Ascii,
        vec![],
        opts,
        budget,
    )
}

/// Plans the load of grid `files` (frame order after natural sorting).
pub fn plan_files(
    path: PathBuf,
    mut files: Vec<PathBuf>,
    kind: SourceKind,
    mut notes: Vec<String>,
    opts: &LoadOptions,
    budget: &Budget,
) -> Result<Plan, LoadError> {
    super::natural_sort(&mut files);
    let sel = Selection::resolve(files.len(), opts)?;
    let first = read_grid(&files[sel.first])?;
    let stretch = opts.to_8bit && opts.normalize;
    let pipe_opts = LoadOptions {
        normalize: false,
        to_8bit: opts.to_8bit && !stretch,
        ..opts.clone()
    };
    let pipeline = FramePipeline::new(SrcDtype::F64, first.h, first.w, 1, &pipe_opts)?;
    let dtype = if stretch { Dtype::U8 } else { pipeline.out };
    let frame_bytes = (pipeline.frame_len() * dtype.size()) as u64;
    let (sel, report) = guard::apply(&path, sel, frame_bytes, budget)?;
    notes.push(format!(
        "ASCII grid{}: {} x {} values (f64 read, stored {dtype})",
        if files.len() > 1 { "s" } else { "" },
        first.h,
        first.w
    ));
    notes.extend(
        first
            .notes
            .iter()
            .map(|n| format!("{}: {n}", files[sel.first].display())),
    );
    if opts.normalize && !opts.to_8bit {
        notes
            .push("--normalize without --8bit leaves ASCII values as they are (spec §2.10)".into());
    }
    let selected: Vec<(usize, PathBuf)> = sel.indices().map(|i| (i, files[i].clone())).collect();
    Ok(Plan {
        path,
        kind,
        source_frames: files.len(),
        frames_exact: true,
        source_height: first.h,
        source_width: first.w,
        source_channels: 1,
        source_dtype: SrcDtype::F64,
        selection: sel,
        shape: Shape::new(selected.len(), pipeline.out_h, pipeline.out_w, 1),
        dtype,
        mapped: false,
        storage: super::Storage::Ram,
        cache: None,
        guard: report,
        notes,
        fps: None,
        time_range: None,
        detail: Detail::Ascii(Box::new(AsciiPlan {
            files: selected,
            h: first.h,
            w: first.w,
            pipeline,
            stretch,
        })),
    })
}

/// Linear-interpolated percentile `p` (0..100) of sorted values, as numpy computes it.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    match sorted.get(i + 1) {
        Some(&next) => sorted[i] + (next - sorted[i]) * frac,
        None => sorted[i],
    }
}

/// The 2nd..98th percentile stretch to u8 (constant or empty grids give zeros).
fn stretch_u8(values: &[f32], out: &mut [u8]) {
    let mut finite: Vec<f64> = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| v as f64)
        .collect();
    out.iter_mut().for_each(|o| *o = 0);
    if finite.is_empty() {
        return;
    }
    finite.sort_by(f64::total_cmp);
    let (lo, hi) = (percentile(&finite, 2.0), percentile(&finite, 98.0));
    if hi <= lo {
        return;
    }
    for (o, &v) in out.iter_mut().zip(values) {
        if !v.is_nan() {
            *o = ((v as f64 - lo) / (hi - lo) * 255.0).clamp(0.0, 255.0) as u8;
        }
    }
}

fn decode_into(p: &AsciiPlan, path: &Path, slot: Slot<'_>) -> Result<(), LoadError> {
    let g = read_grid(path)?;
    if (g.h, g.w) != (p.h, p.w) {
        return Err(LoadError::decode(
            path,
            format!(
                "ASCII grid of {} x {} values; the first grid is {} x {} (all grids of a stack must have one size)",
                g.h, g.w, p.h, p.w
            ),
        ));
    }
    let raw = RawFrame {
        h: g.h,
        w: g.w,
        c: 1,
        data: RawData::F32(g.values.iter().map(|&v| v as f32).collect()),
    };
    match (p.stretch, slot) {
        (true, Slot::U8(out)) => {
            let mut tmp = vec![0f32; out.len()];
            p.pipeline.run(path, raw, Slot::F32(&mut tmp))?;
            stretch_u8(&tmp, out);
            Ok(())
        }
        (_, slot) => p.pipeline.run(path, raw, slot),
    }
}

/// Parses the planned grid files in parallel into the final buffer.
pub fn load(plan: &Plan, a: &AsciiPlan, progress: &dyn Progress) -> Result<Stack, LoadError> {
    let count = a.files.len();
    let mut buf = OutBuf::for_plan(plan, count)?;
    progress.start("parsing ASCII grids", count as u64);
    buf.par_fill(
        count,
        plan.shape.frame_len(),
        1,
        || Ok(()),
        |_, k, slot| {
            if progress.is_cancelled() {
                return Err(LoadError::Cancelled(plan.path.clone()));
            }
            decode_into(a, &a.files[k].1, slot)?;
            progress.advance(1);
            Ok(())
        },
    )?
    .into_iter()
    .collect::<Result<(), LoadError>>()?;
    let source = SourceInfo {
        frame_index: a.files.iter().map(|(i, _)| *i).collect(),
        ..Default::default()
    };
    buf.into_stack(plan.shape, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_empty_cells_and_words_become_nan() {
        let g = parse("1\t2\t3\n4\t\tx\n");
        assert_eq!((g.h, g.w), (2, 3));
        assert_eq!(&g.values[..4], &[1.0, 2.0, 3.0, 4.0]);
        assert!(g.values[4].is_nan() && g.values[5].is_nan());
    }

    #[test]
    fn row_numbers_are_dropped_and_short_rows_padded() {
        let g = parse("1 5 6\n2 7\n3 8 9\n");
        assert_eq!((g.h, g.w), (3, 2));
        assert_eq!(g.values[0], 5.0);
        assert!(g.values[3].is_nan());
        assert!(g.notes.iter().any(|n| n.contains("first column")));
        // 0-based counts too; a first column that does not count stays
        assert_eq!(parse("0,5\n1,6\n").w, 1);
        assert_eq!(parse("0,5\n2,6\n").w, 2);
    }

    #[test]
    fn esri_header_is_skipped_and_nodata_is_nan() {
        let g = parse("ncols 2\nnrows 2\ncellsize 1\nNODATA_value -9999\n1 -9999\n3 4\n");
        assert_eq!((g.h, g.w), (2, 2));
        assert!(g.values[1].is_nan());
        assert_eq!(g.values[3], 4.0);
    }

    #[test]
    fn one_line_is_one_row_and_the_probe_wants_a_matrix() {
        let g = parse("1,2,3");
        assert_eq!((g.h, g.w), (1, 3));
        assert!(probe("1 2\n3 4\n"));
        assert!(!probe("hello world\nthis is text\n"));
        assert!(!probe("1 2 3\n"));
        // half finite is enough, less is not
        assert!(probe("5 a\n7 b\n"));
        assert!(!probe("5 a b\n7 c d\n"));
    }

    #[test]
    fn latin1_text_is_read() {
        let bytes = b"\xb5m\t\xb0C\n1\t2\n3\t4\n";
        let g = parse(&decode_text(bytes));
        assert_eq!((g.h, g.w), (2, 2));
        assert_eq!(g.values, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 2.0), 2.0);
        assert_eq!(percentile(&[0.0, 10.0], 98.0), 9.8);
        let mut out = [0u8; 3];
        stretch_u8(&[5.0, 5.0, 5.0], &mut out);
        assert_eq!(out, [0, 0, 0]);
    }
}
