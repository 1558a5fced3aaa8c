//! `blitz.load`'s keyword options: the CLI's load option names (`--size-ratio` is
//! `size_ratio`, `--8bit` is `eight_bit`), turned into the library's `LoadOptions`.

use std::path::PathBuf;

use blitz::LoadOptions;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The keyword names accepted, as listed in errors.
const NAMES: &str = "gray, eight_bit, normalize, size_ratio, subset_ratio, step, first, last, \
                     max_ram, crop, crop_common, as_frames, seek, storage, cache_dir";

/// `LoadOptions` from keyword arguments; an unknown name or a value of the wrong type is
/// a TypeError naming it.
pub fn load_options(kw: Option<&Bound<'_, PyDict>>) -> PyResult<LoadOptions> {
    let mut o = LoadOptions::default();
    let Some(kw) = kw else { return Ok(o) };
    for (k, v) in kw.iter() {
        let name: String = k.extract()?;
        let bad = |e: PyErr| PyTypeError::new_err(format!("{name}: {e}"));
        match name.as_str() {
            "gray" => o.grayscale = v.extract().map_err(bad)?,
            "eight_bit" => o.to_8bit = v.extract().map_err(bad)?,
            "normalize" => o.normalize = v.extract().map_err(bad)?,
            "size_ratio" => o.size_ratio = v.extract().map_err(bad)?,
            "subset_ratio" => o.subset_ratio = v.extract().map_err(bad)?,
            "step" => o.step = v.extract().map_err(bad)?,
            "first" => o.first = v.extract().map_err(bad)?,
            "last" => o.last = v.extract().map_err(bad)?,
            "max_ram" => o.max_ram_gib = v.extract().map_err(bad)?,
            "crop" => {
                // "X,Y,W,H" or a sequence of four integers, parsed by the library
                let text = match v.extract::<String>() {
                    Ok(t) => t,
                    Err(_) => {
                        let n: Vec<i64> = v.extract().map_err(bad)?;
                        n.iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    }
                };
                o.crop =
                    Some(text.parse().map_err(|e: String| {
                        PyValueError::new_err(format!("crop '{text}': {e}"))
                    })?);
            }
            "crop_common" => o.crop_to_common = v.extract().map_err(bad)?,
            "as_frames" => o.as_frames = v.extract().map_err(bad)?,
            "seek" => {
                let s: String = v.extract().map_err(bad)?;
                o.video_seek = s
                    .parse()
                    .map_err(|e: String| PyValueError::new_err(format!("seek: {e}")))?;
            }
            "storage" => {
                let s: String = v.extract().map_err(bad)?;
                o.storage = s
                    .parse()
                    .map_err(|e: String| PyValueError::new_err(format!("storage: {e}")))?;
            }
            "cache_dir" => o.cache_dir = v.extract::<Option<PathBuf>>().map_err(bad)?,
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "unknown load option '{name}' ({NAMES})"
                )));
            }
        }
    }
    Ok(o)
}
