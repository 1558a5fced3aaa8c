//! The Python module `blitz._blitz`: loading, the engine's operations and the GPU's
//! description, each a thin call of the library (the Python package `blitz` re-exports
//! them). Inputs are lent without a copy (see `stack`), work runs with the GIL released
//! (see `run`), errors carry the CLI's messages.

mod ops;
mod options;
mod run;
mod stack;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use blitz::LoadError;
use blitz::engine::{Engine, EngineChoice};
use blitz::ops::{FrameRange, Image, OpError};
use blitz::stack::Stack;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    blitz,
    BlitzError,
    PyException,
    "A source blitz could not load (the CLI's message)."
);

/// An operation's error as a Python exception: bad arguments are ValueError, a stop
/// asked for is KeyboardInterrupt.
fn op_err(e: OpError) -> PyErr {
    match e {
        OpError::Cancelled => run::interrupted(),
        e => PyValueError::new_err(e.to_string()),
    }
}

/// A load error with its message and causes, as the CLI prints them.
fn load_err(e: LoadError) -> PyErr {
    let msg = blitz::report::report(&e);
    match e {
        LoadError::NotFound(_) => PyFileNotFoundError::new_err(msg),
        LoadError::Cancelled(_) => run::interrupted(),
        _ => BlitzError::new_err(msg),
    }
}

/// `engine=` as the CLI's `--engine` takes it.
fn engine_choice(engine: &str) -> PyResult<EngineChoice> {
    match engine.to_ascii_lowercase().as_str() {
        "auto" => Ok(EngineChoice::Auto),
        "cpu" => Ok(EngineChoice::Cpu),
        "gpu" => Ok(EngineChoice::Gpu),
        _ => Err(PyValueError::new_err(format!(
            "engine: unknown engine '{engine}' (auto, cpu, gpu)"
        ))),
    }
}

/// One engine per choice for the life of the process: the GPU is opened and its kernels
/// compiled once.
fn engine(choice: EngineChoice) -> &'static Engine {
    static ENGINES: [OnceLock<Engine>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = match choice {
        EngineChoice::Auto => 0,
        EngineChoice::Cpu => 1,
        EngineChoice::Gpu => 2,
    };
    ENGINES[i].get_or_init(|| Engine::new(choice))
}

/// `frames=(a, b)` (inclusive, as `--from A --to B`) or every frame.
fn frame_range(stack: &Stack, frames: Option<(usize, usize)>) -> PyResult<FrameRange> {
    let n = stack.shape().frames;
    let r = match frames {
        Some((a, b)) => FrameRange::new(a, b),
        None => FrameRange::all(n),
    };
    r.check(n)
        .map_err(|e| PyValueError::new_err(format!("frames: {e}")))?;
    Ok(r)
}

/// An (H, W) or (H, W, C) f32 image as a numpy array that takes over its buffer.
pub(crate) fn image_array(py: Python<'_>, img: Image) -> PyResult<Bound<'_, PyAny>> {
    let (h, w, c) = (img.height, img.width, img.channels);
    let a = PyArray1::from_vec(py, img.data);
    Ok(if c == 1 {
        a.reshape([h, w])?.into_any()
    } else {
        a.reshape([h, w, c])?.into_any()
    })
}

/// Loads `path` (a file, a folder, `demo` or `demo:T,H,W`) with the CLI's load options
/// as keywords; `progress(done, total)` is told the frames decoded.
#[pyfunction]
#[pyo3(signature = (path, progress=None, **options))]
fn load(
    py: Python<'_>,
    path: PathBuf,
    progress: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<stack::PyStack> {
    let opts = options::load_options(options)?;
    let st = run::run(py, progress, move |w| blitz::load(&path, &opts, w))?.map_err(load_err)?;
    Ok(stack::PyStack {
        inner: Arc::new(st),
    })
}

/// The temporal reduce (`mean`, `max`, `min`, `std`, `median`, `sum`) of frames
/// `frames=(a, b)` (inclusive; default all) as an (H, W[, C]) float32 array.
#[pyfunction]
#[pyo3(signature = (x, op, frames=None, engine="auto", progress=None))]
fn reduce<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    op: &str,
    frames: Option<(usize, usize)>,
    engine: &str,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let op: blitz::ops::reduce::ReduceOp = op
        .parse()
        .map_err(|e: String| PyValueError::new_err(format!("op: {e}")))?;
    let stack = stack::as_stack("x", x)?;
    let range = frame_range(&stack, frames)?;
    let choice = engine_choice(engine)?;
    let img = run::run(py, progress, move |w| {
        self::engine(choice).reduce_watched(&stack, op, range, w)
    })?
    .map_err(op_err)?
    .0;
    image_array(py, img)
}

/// The adapter the GPU engine would use, as a dict (`available` False with the reason
/// when there is none).
#[pyfunction]
fn gpu_info(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let info = py.detach(|| blitz::gpu::GpuDevice::new().map(|d| d.info()));
    let json = py.import("json")?;
    let d = PyDict::new(py);
    match info {
        Ok(i) => {
            let text =
                serde_json::to_string(&i).map_err(|e| PyValueError::new_err(e.to_string()))?;
            let parsed = json.call_method1("loads", (text,))?;
            d.update(parsed.cast()?)?;
            d.set_item("available", true)?;
        }
        Err(e) => {
            d.set_item("available", false)?;
            d.set_item("error", e.to_string())?;
        }
    }
    Ok(d.into_any())
}

#[pymodule]
fn _blitz(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<stack::PyStack>()?;
    m.add("BlitzError", m.py().get_type::<BlitzError>())?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(reduce, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_info, m)?)?;
    ops::register(m)?;
    Ok(())
}
