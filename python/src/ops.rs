//! `normalize`, `roi`, `profile`, `kymograph` and `histogram`: the CLI's arguments as
//! keywords, its grammars (`range:OP:A:B`, `X,Y,W,H`, `X1,Y1,X2,Y2`) parsed by the
//! library, results as numpy arrays.

use std::sync::Arc;

use blitz::engine::EngineChoice;
use blitz::ops::histogram::histogram_watched;
use blitz::ops::kymograph::{self as kymo, Line};
use blitz::ops::normalize::{Normalize, Source, SourceSpec, Step};
use blitz::ops::profile::{self as prof, Orientation};
use blitz::ops::roi::{Roi, Stat};
use blitz::ops::{Image, OpError};
use blitz::stack::{Shape, Stack, chunk_bytes_from_env};
use numpy::{PyArray1, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::stack::{as_stack, into_array};
use crate::{engine, engine_choice, frame_range, image_array, op_err, options, run};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(roi, m)?)?;
    m.add_function(wrap_pyfunction!(profile, m)?)?;
    m.add_function(wrap_pyfunction!(histogram, m)?)?;
    m.add_function(wrap_pyfunction!(kymograph, m)?)?;
    Ok(())
}

/// A reference given as an array: one (H, W[, C]) frame, read as f32.
fn image_reference(arg: &str, r: &Bound<'_, PyAny>) -> PyResult<Image> {
    let a = r.cast::<PyUntypedArray>()?;
    let shape = a.shape().to_vec();
    let (h, w, c) = match shape[..] {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => {
            return Err(PyValueError::new_err(format!(
                "{arg}: a reference array is one (H, W) or (H, W, C) frame, got shape {shape:?}"
            )));
        }
    };
    let np = r.py().import("numpy")?;
    // one frame, copied: a fresh array is contiguous and aligned whatever `r` is
    let kw = PyDict::new(r.py());
    kw.set_item("dtype", "float32")?;
    kw.set_item("order", "C")?;
    let f = np.call_method("array", (r,), Some(&kw))?;
    let f = f.cast::<numpy::PyArrayDyn<f32>>()?;
    let data = f.readonly().as_slice()?.to_vec();
    Ok(Image {
        height: h,
        width: w,
        channels: c,
        data,
    })
}

/// One step of `normalize`: a reference text in the CLI's grammar, or an array, checked
/// against the stack alone so that an error names its argument.
fn step(
    arg: &str,
    r: Option<&Bound<'_, PyAny>>,
    amount: f32,
    shape: Shape,
    opts: &blitz::LoadOptions,
) -> PyResult<Option<Step>> {
    let Some(r) = r else { return Ok(None) };
    let (source, context) = if let Ok(text) = r.extract::<String>() {
        let context = format!("{arg} '{text}'");
        let spec: SourceSpec = text
            .parse()
            .map_err(|e: blitz::ops::SpecError| PyValueError::new_err(format!("{context}: {e}")))?;
        let source = spec
            .resolve(shape, opts)
            .map_err(|e| PyValueError::new_err(format!("{context}: {e}")))?;
        (source, context)
    } else if r.cast::<PyUntypedArray>().is_ok() {
        (Source::File(image_reference(arg, r)?), arg.to_string())
    } else {
        return Err(PyTypeError::new_err(format!(
            "{arg}: expected a reference 'range:OP:A:B', 'file:PATH', 'sliding:OP:WINDOW:LAG' or an (H, W[, C]) array"
        )));
    };
    let step = Step { source, amount };
    let alone = Normalize {
        subtract: Some(step.clone()),
        divide: None,
    };
    alone
        .validate(shape)
        .map_err(|e| PyValueError::new_err(format!("{context}: {e}")))?;
    Ok(Some(step))
}

/// Subtract a reference, then divide by one (`--subtract`, `--divide` and their
/// amounts): a float32 (T', H, W[, C]) array. File references load with `**options`.
#[pyfunction]
#[pyo3(signature = (x, subtract=None, divide=None, amount_sub=1.0, amount_div=1.0, engine="auto", progress=None, **options))]
#[allow(clippy::too_many_arguments)]
fn normalize<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    subtract: Option<&Bound<'py, PyAny>>,
    divide: Option<&Bound<'py, PyAny>>,
    amount_sub: f32,
    amount_div: f32,
    engine: &str,
    progress: Option<&Bound<'py, PyAny>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let stack = as_stack("x", x)?;
    let choice = engine_choice(engine)?;
    let opts = options::load_options(options)?;
    if subtract.is_none() && divide.is_none() {
        return Err(PyValueError::new_err(
            "nothing to do: give subtract and/or divide",
        ));
    }
    let sh = stack.shape();
    let n = Normalize {
        subtract: step("subtract", subtract, amount_sub, sh, &opts)?,
        divide: step("divide", divide, amount_div, sh, &opts)?,
    };
    let out =
        run::run(py, progress, move |w| normalized(&stack, &n, choice, w))?.map_err(op_err)?;
    into_array(py, out)
}

/// The normalized stack: on the GPU when the engine has one, else on the CPU in chunks
/// of frames, telling `w` each chunk and stopping when it is cancelled.
fn normalized(
    stack: &Stack,
    n: &Normalize,
    choice: EngineChoice,
    w: &run::Watch,
) -> Result<Stack, OpError> {
    let sh = stack.shape();
    let n_out = n.output_frames(sh.frames);
    w.start(n_out as u64);
    let eng = engine(choice);
    if eng.gpu().is_some() {
        // one call on the GPU (or the CPU it falls back to): no chunks to report
        let (s, _) = eng.normalize(stack, n)?;
        w.advance(n_out as u64);
        return Ok(s);
    }
    let p = sh.frame_len();
    let mut out = vec![0f32; n_out * p];
    n.apply_chunked(stack, chunk_bytes_from_env(), |t0, frames| {
        out[t0 * p..t0 * p + frames.len()].copy_from_slice(frames);
        if w.advance((frames.len() / p.max(1)) as u64) {
            Ok(())
        } else {
            Err(OpError::Cancelled)
        }
    })?;
    let out_shape = Shape::new(n_out, sh.height, sh.width, sh.channels);
    Ok(Stack::from_vec(out_shape, out)
        .map_err(|e| OpError::Invalid(e.to_string()))?
        .with_source(stack.source.clone()))
}

/// A ROI given as the CLI's text (`"X,Y,W,H"`) or as a sequence of numbers.
fn roi_text(r: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = r.extract::<String>() {
        return Ok(s);
    }
    let v: Vec<f64> = r.extract()?;
    Ok(v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(","))
}

/// The ROI time series (`--rect X,Y,W,H` or `--polygon X1,Y1,...`, `--median`): a dict of
/// `frames`, `source_frame`, `time_s` (NaN where the source gives no time), `value`,
/// `min`, `max` (N[, C]) and `pixels`.
#[pyfunction]
#[pyo3(signature = (x, rect=None, polygon=None, median=false, frames=None, engine="auto", progress=None))]
#[allow(clippy::too_many_arguments)]
fn roi<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    rect: Option<&Bound<'py, PyAny>>,
    polygon: Option<&Bound<'py, PyAny>>,
    median: bool,
    frames: Option<(usize, usize)>,
    engine: &str,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (arg, text, parsed) = match (rect, polygon) {
        (Some(r), _) => {
            let t = roi_text(r)?;
            let p = Roi::parse_rect(&t);
            ("rect", t, p)
        }
        (None, Some(p)) => {
            let t = roi_text(p)?;
            let r = Roi::parse_polygon(&t);
            ("polygon", t, r)
        }
        (None, None) => {
            return Err(PyValueError::new_err(
                "give rect=(X, Y, W, H) or polygon=(X1, Y1, X2, Y2, ...)",
            ));
        }
    };
    let roi = parsed.map_err(|e| PyValueError::new_err(format!("{arg} '{text}': {e}")))?;
    let stack = as_stack("x", x)?;
    let range = frame_range(&stack, frames)?;
    let choice = engine_choice(engine)?;
    let stat = if median { Stat::Median } else { Stat::Mean };
    let (index, time) = stack.source.clock(range.first..range.last + 1);
    let (r, _) = run::run(py, progress, move |w| {
        self::engine(choice).roi_watched(&stack, &roi, stat, range, w)
    })?
    .map_err(|e| match e {
        OpError::Cancelled => op_err(e),
        e => PyValueError::new_err(format!("{arg}: {e}")),
    })?;
    let d = PyDict::new(py);
    let shaped = |v: Vec<f32>| values_array(py, v, r.channels);
    d.set_item("frames", PyArray1::from_vec(py, r.frames.clone()))?;
    d.set_item("source_frame", PyArray1::from_vec(py, index))?;
    d.set_item("time_s", PyArray1::from_vec(py, time))?;
    d.set_item("value", shaped(r.value)?)?;
    d.set_item("min", shaped(r.min)?)?;
    d.set_item("max", shaped(r.max)?)?;
    d.set_item("pixels", r.pixels)?;
    Ok(d.into_any())
}

/// A line given as the CLI's text (`"X1,Y1,X2,Y2[,...]"`), a flat sequence of numbers or
/// a sequence of (x, y) points, parsed by the library.
fn line_of(r: &Bound<'_, PyAny>, width: usize) -> PyResult<(String, Line)> {
    let text = if let Ok(s) = r.extract::<String>() {
        s
    } else if let Ok(v) = r.extract::<Vec<f64>>() {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    } else if let Ok(v) = r.extract::<Vec<(f64, f64)>>() {
        v.iter()
            .map(|(x, y)| format!("{x},{y}"))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        return Err(PyTypeError::new_err(
            "line: give \"X1,Y1,X2,Y2[,...]\", a sequence of numbers or of (x, y) points",
        ));
    };
    let line =
        Line::parse(&text, width).map_err(|e| PyValueError::new_err(format!("line: {e}")))?;
    Ok((text, line))
}

/// The line profile of frame `frame` at `row=Y`, `col=X` or along `line=` (a polyline,
/// read bilinearly), band half-width `width`: a dict with `values` (P[, C]), for a
/// line `arc` (pixels from its first point), and with `envelope=Q` the dataset envelope
/// `lo`, `hi`.
#[pyfunction]
#[pyo3(signature = (x, row=None, col=None, line=None, width=0, frame=0, envelope=None, engine="auto"))]
#[allow(clippy::too_many_arguments)]
fn profile<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    row: Option<usize>,
    col: Option<usize>,
    line: Option<&Bound<'py, PyAny>>,
    width: usize,
    frame: usize,
    envelope: Option<u32>,
    engine: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(q) = envelope {
        prof::check_percentile(q)
            .map_err(|e| PyValueError::new_err(format!("envelope {q}: {e}")))?;
    }
    let (orient, pos, what) = match (row, col, line) {
        (Some(y), None, None) => (Orientation::Row, y, format!("row {y}")),
        (None, Some(x), None) => (Orientation::Col, x, format!("col {x}")),
        (None, None, Some(l)) => {
            let (text, line) = line_of(l, width)?;
            return line_profile(py, x, &text, line, frame, envelope);
        }
        _ => {
            return Err(PyValueError::new_err(
                "give exactly one of row=Y, col=X or line=(X1, Y1, X2, Y2, ...)",
            ));
        }
    };
    let stack = as_stack("x", x)?;
    let choice = engine_choice(engine)?;
    let w2 = what.clone();
    let (p, env) = run::run(py, None, move |_| {
        let p =
            prof::profile(&stack, frame, orient, pos, width).map_err(|e| format!("{w2}: {e}"))?;
        let env = envelope
            .map(|q| self::engine(choice).dataset_envelope(&stack, orient, pos, width, q))
            .transpose()
            .map_err(|e| format!("envelope with {w2}: {e}"))?;
        Ok::<_, String>((p, env))
    })?
    .map_err(PyValueError::new_err)?;
    let d = PyDict::new(py);
    d.set_item("values", values_array(py, p.values, p.channels)?)?;
    if let Some((e, _)) = env {
        d.set_item("lo", PyArray1::from_vec(py, e.lo))?;
        d.set_item("hi", PyArray1::from_vec(py, e.hi))?;
    }
    Ok(d.into_any())
}

/// `values` (P[, C]) of a profile as an array.
fn values_array(py: Python<'_>, values: Vec<f32>, channels: usize) -> PyResult<Bound<'_, PyAny>> {
    let n = values.len() / channels.max(1);
    let a = PyArray1::from_vec(py, values);
    Ok(if channels == 1 {
        a.into_any()
    } else {
        a.reshape([n, channels])?.into_any()
    })
}

/// [`profile`] along a polyline.
fn line_profile<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    text: &str,
    line: Line,
    frame: usize,
    envelope: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let stack = as_stack("x", x)?;
    let what = format!("line {text}");
    let arc = line.arc_lengths();
    let (p, env) = run::run(py, None, move |_| {
        let p = kymo::line_profile(&stack, frame, &line).map_err(|e| format!("{what}: {e}"))?;
        let env = envelope
            .map(|q| kymo::line_envelope(&stack, &line, q))
            .transpose()
            .map_err(|e| format!("envelope with {what}: {e}"))?;
        Ok::<_, String>((p, env))
    })?
    .map_err(PyValueError::new_err)?;
    let d = PyDict::new(py);
    d.set_item("values", values_array(py, p.values, p.channels)?)?;
    d.set_item("arc", PyArray1::from_vec(py, arc))?;
    if let Some(e) = env {
        d.set_item("lo", PyArray1::from_vec(py, e.lo))?;
        d.set_item("hi", PyArray1::from_vec(py, e.hi))?;
    }
    Ok(d.into_any())
}

/// The kymograph of frames `frames=(a, b)` along `row=Y`, `col=X` or `line=` (a
/// polyline), band half-width `width`: a (T, L[, C]) float32 array, row t the line's
/// profile in frame `a + t`.
#[pyfunction]
#[pyo3(signature = (x, row=None, col=None, line=None, width=0, frames=None, engine="auto", progress=None))]
#[allow(clippy::too_many_arguments)]
fn kymograph<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    row: Option<usize>,
    col: Option<usize>,
    line: Option<&Bound<'py, PyAny>>,
    width: usize,
    frames: Option<(usize, usize)>,
    engine: &str,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let parsed = line.map(|l| line_of(l, width)).transpose()?;
    let stack = as_stack("x", x)?;
    let sh = stack.shape();
    let (what, line) = match (row, col, parsed) {
        (Some(y), None, None) => (format!("row {y}"), Line::row(y, sh.width, width)),
        (None, Some(x), None) => (format!("col {x}"), Line::col(x, sh.height, width)),
        (None, None, Some((text, l))) => (format!("line {text}"), l),
        _ => {
            return Err(PyValueError::new_err(
                "give exactly one of row=Y, col=X or line=(X1, Y1, X2, Y2, ...)",
            ));
        }
    };
    let range = frame_range(&stack, frames)?;
    let choice = engine_choice(engine)?;
    let img = run::run(py, progress, move |w| {
        self::engine(choice)
            .kymograph_watched(&stack, &line, range, w)
            .map(|(img, _)| img)
    })?
    .map_err(|e| match e {
        OpError::Cancelled => op_err(e),
        e => PyValueError::new_err(format!("{what}: {e}")),
    })?;
    // an image of (frames, positions, channels)
    image_array(py, img)
}

/// The histogram of frames `frames=(a, b)` (u8: 256 exact bins; u16/f32: `bins` equal
/// bins over the finite range): a dict of `counts`, `edges` (bins + 1), `total`.
#[pyfunction]
#[pyo3(signature = (x, frames=None, bins=None, engine="auto", progress=None))]
fn histogram<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    frames: Option<(usize, usize)>,
    bins: Option<usize>,
    engine: &str,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let stack: Arc<Stack> = as_stack("x", x)?;
    let range = frame_range(&stack, frames)?;
    let choice = engine_choice(engine)?;
    let h = run::run(py, progress, move |w| {
        let eng = self::engine(choice);
        if eng.gpu().is_some() {
            return eng.histogram(&stack, range, bins).map(|(h, _)| h);
        }
        // the CPU path counts chunk by chunk: progress, and Ctrl+C between chunks
        let walks = if stack.dtype() == blitz::Dtype::F32 {
            2
        } else {
            1
        };
        w.start(walks * range.len() as u64);
        histogram_watched(&stack, range, bins, chunk_bytes_from_env(), &mut |n| {
            w.advance(n)
        })
    })?
    .map_err(|e| match e {
        OpError::Cancelled => op_err(e),
        e => PyValueError::new_err(format!("bins: {e}")),
    })?;
    let d = PyDict::new(py);
    d.set_item("edges", PyArray1::from_vec(py, h.bin_edges()))?;
    d.set_item("counts", PyArray1::from_vec(py, h.counts))?;
    d.set_item("total", h.total)?;
    d.set_item("exact", h.exact)?;
    Ok(d.into_any())
}
