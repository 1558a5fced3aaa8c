//! `blitz.Stack` (a loaded stack whose `numpy.asarray` is a view of its own memory) and
//! the one conversion of an operation's input: a Stack, or a C-contiguous numpy array of
//! u8, u16 or f32 lent to the engine without a copy.

use std::sync::Arc;

use blitz::stack::{Samples, Shape, Stack};
use ndarray::{ArrayViewD, IxDyn};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods, dtype,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A loaded stack: (T, H, W[, C]) samples in blitz's memory (owned or mapped).
#[pyclass(name = "Stack", module = "blitz", frozen)]
pub struct PyStack {
    pub inner: Arc<Stack>,
}

/// The numpy shape of a stack: (T, H, W) for one channel, (T, H, W, C) otherwise.
pub fn dims(s: Shape) -> Vec<usize> {
    let mut d = vec![s.frames, s.height, s.width];
    if s.channels != 1 {
        d.push(s.channels);
    }
    d
}

/// A numpy array viewing the samples of `slf`'s stack, keeping `slf` alive; read-only
/// when the stack is a file mapping.
pub fn view<'py>(slf: &Bound<'py, PyStack>) -> PyResult<Bound<'py, PyAny>> {
    let st = &slf.get().inner;
    let d = IxDyn(&dims(st.shape()));
    let owner = slf.clone().into_any();
    let shape_err = |e: ndarray::ShapeError| PyValueError::new_err(e.to_string());
    // SAFETY: the samples live as long as the stack, which `owner` keeps alive, and a
    // stack's buffer never moves
    let arr = unsafe {
        match st.samples() {
            Samples::U8(s) => PyArrayDyn::borrow_from_array(
                &ArrayViewD::from_shape(d, s).map_err(shape_err)?,
                owner,
            )
            .into_any(),
            Samples::U16(s) => PyArrayDyn::borrow_from_array(
                &ArrayViewD::from_shape(d, s).map_err(shape_err)?,
                owner,
            )
            .into_any(),
            Samples::F32(s) => PyArrayDyn::borrow_from_array(
                &ArrayViewD::from_shape(d, s).map_err(shape_err)?,
                owner,
            )
            .into_any(),
        }
    };
    if st.is_mapped() {
        arr.getattr("flags")?.setattr("writeable", false)?;
    }
    Ok(arr)
}

/// The numpy view of a new stack (an operation's result).
pub fn into_array(py: Python<'_>, stack: Stack) -> PyResult<Bound<'_, PyAny>> {
    let s = Bound::new(
        py,
        PyStack {
            inner: Arc::new(stack),
        },
    )?;
    view(&s)
}

#[pymethods]
impl PyStack {
    /// The samples as a numpy array without a copy (a copy only when `dtype` or
    /// `copy=True` asks for one).
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        slf: &Bound<'py, Self>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut a = view(slf)?;
        if let Some(dt) = dtype {
            let kw = PyDict::new(slf.py());
            kw.set_item("copy", copy.unwrap_or(false))?;
            a = a.call_method("astype", (dt,), Some(&kw))?;
        } else if copy == Some(true) {
            a = a.call_method0("copy")?;
        }
        Ok(a)
    }

    /// The numpy view (same as `numpy.asarray(stack)`).
    #[getter]
    fn array<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        view(slf)
    }

    /// (T, H, W) or (T, H, W, C).
    #[getter]
    fn shape(&self) -> Vec<usize> {
        dims(self.inner.shape())
    }

    /// "uint8", "uint16" or "float32" (numpy's names).
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.inner.dtype() {
            blitz::Dtype::U8 => "uint8",
            blitz::Dtype::U16 => "uint16",
            blitz::Dtype::F32 => "float32",
        }
    }

    /// Number of channels (1 or 3).
    #[getter]
    fn channels(&self) -> usize {
        self.inner.shape().channels
    }

    /// True when the samples are a read-only file mapping (`.npy`, the disk cache).
    #[getter]
    fn mapped(&self) -> bool {
        self.inner.is_mapped()
    }

    /// Bytes of sample data.
    #[getter]
    fn nbytes(&self) -> u64 {
        self.inner.bytes()
    }

    /// The path (or `demo`) it was loaded from.
    #[getter]
    fn path(&self) -> String {
        self.inner.source.path.clone()
    }

    /// The loader that produced it: `image folder`, `tiff stack`, `video`, `npy`, ...
    #[getter]
    fn kind(&self) -> String {
        self.inner.source.kind.clone()
    }

    /// Frames per second the source gives, or None.
    #[getter]
    fn fps(&self) -> Option<f64> {
        self.inner.source.fps
    }

    /// Source index of every frame kept (video frame number, file index in a folder).
    #[getter]
    fn frame_index(&self) -> Vec<usize> {
        self.inner.source.frame_index.clone()
    }

    /// Time of every frame in seconds where the source says (empty otherwise).
    #[getter]
    fn frame_time(&self) -> Vec<f64> {
        self.inner.source.frame_time.clone()
    }

    /// The loader's remarks (memory guard, truncation, skipped files).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.inner.source.notes.clone()
    }

    /// Files left out, with the reason.
    #[getter]
    fn skipped(&self) -> Vec<(String, String)> {
        self.inner.source.skipped.clone()
    }

    fn __len__(&self) -> usize {
        self.inner.shape().frames
    }

    fn __repr__(&self) -> String {
        format!(
            "blitz.Stack(shape={:?}, dtype={}, kind='{}', path='{}', mapped={})",
            dims(self.inner.shape()),
            self.dtype(),
            self.inner.source.kind,
            self.inner.source.path,
            if self.inner.is_mapped() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// Holds a numpy array alive while a stack borrows its samples.
struct Lent(#[allow(dead_code)] Py<PyAny>);

/// An operation's input `x` (named `arg` in errors) as a stack: a Stack's own, or a
/// numpy array's memory lent without a copy.
pub fn as_stack(arg: &str, x: &Bound<'_, PyAny>) -> PyResult<Arc<Stack>> {
    if let Ok(s) = x.cast::<PyStack>() {
        return Ok(s.get().inner.clone());
    }
    let Ok(a) = x.cast::<PyUntypedArray>() else {
        return Err(PyTypeError::new_err(format!(
            "{arg}: expected a blitz.Stack or a numpy array, got {}",
            x.get_type().name()?
        )));
    };
    let py = x.py();
    let dt = a.dtype();
    let shape = a.shape();
    let (t, h, w, c) = match *shape {
        [t, h, w] => (t, h, w, 1),
        [t, h, w, c] if c == 1 || c == 3 => (t, h, w, c),
        [_, _, _, c] => {
            return Err(PyValueError::new_err(format!(
                "{arg}: (T, H, W, C) needs 1 or 3 channels, got C = {c}"
            )));
        }
        _ => {
            return Err(PyValueError::new_err(format!(
                "{arg}: expected a 3-D (T, H, W) or 4-D (T, H, W, C) array, got {} dimension(s) {:?}",
                shape.len(),
                shape
            )));
        }
    };
    if !a.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{arg}: the array is not C-contiguous (pass numpy.ascontiguousarray({arg}); blitz does not copy)"
        )));
    }
    let shape = Shape::new(t, h, w, c);
    let keep: blitz::stack::Keeper = Arc::new(Lent(x.clone().unbind()));
    let stack = if dt.is_equiv_to(&dtype::<u8>(py)) {
        lend::<u8>(arg, x, shape, keep)
    } else if dt.is_equiv_to(&dtype::<u16>(py)) {
        lend::<u16>(arg, x, shape, keep)
    } else if dt.is_equiv_to(&dtype::<f32>(py)) {
        lend::<f32>(arg, x, shape, keep)
    } else {
        return Err(PyTypeError::new_err(format!(
            "{arg}: dtype {} is not supported (uint8, uint16 or float32; convert with {arg}.astype(...))",
            dt.str()?
        )));
    }?;
    Ok(Arc::new(stack))
}

fn lend<T: blitz::stack::StackSample + numpy::Element>(
    arg: &str,
    x: &Bound<'_, PyAny>,
    shape: Shape,
    keep: blitz::stack::Keeper,
) -> PyResult<Stack> {
    let a = x.cast::<PyArrayDyn<T>>()?;
    let ptr = a.data() as *const T;
    if !(ptr as usize).is_multiple_of(std::mem::align_of::<T>()) {
        return Err(PyValueError::new_err(format!(
            "{arg}: the array's data is not aligned (pass {arg}.copy(); blitz does not copy)"
        )));
    }
    // SAFETY: a C-contiguous, aligned array of `shape.len()` samples of T, kept alive by
    // `keep`; writing it from Python while an operation runs is the caller's race
    unsafe { Stack::from_external(shape, ptr, keep) }
        .map_err(|e| PyValueError::new_err(e.to_string()))
}
