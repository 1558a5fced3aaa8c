//! The WGSL of the compute kernels: each `shaders/<kernel>.wgsl` composed after the
//! prelude in `shaders/common/` at compile time (`concat!` of `include_str!`), so that
//! every kernel shares one copy of the sample unpacking, the `DT_*` codes, the NaN test
//! and the u64 helpers; and the kernels' uniform `Params`, declared so that a test can
//! hold each against naga's layout of its WGSL struct.

/// The prelude's files under `shaders/`, in the order they are composed.
pub const PRELUDE_FILES: [&str; 2] = ["common/samples.wgsl", "common/u64.wgsl"];

/// `shaders/<file>` after the prelude, as one `&'static str` built at compile time. The
/// prelude's file list is [`PRELUDE_FILES`] (a test checks that the two agree).
macro_rules! kernel_source {
    ($file:literal) => {
        concat!(
            include_str!("../../shaders/common/samples.wgsl"),
            "\n",
            include_str!("../../shaders/common/u64.wgsl"),
            "\n",
            include_str!(concat!("../../shaders/", $file)),
        )
    };
}
pub(crate) use kernel_source;

/// A kernel's uniform `Params`: `#[repr(C)]`, plain old data, and (in tests) the name,
/// offset, size and type of every field, which the layout test compares with naga's
/// layout of the WGSL struct of the same name. Fields are u32, i32, f32 or arrays of two
/// to four of them (a WGSL vector).
macro_rules! uniform_params {
    (
        $(#[$meta:meta])*
        struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
        pub(super) struct $name {
            $($(#[$fmeta])* $field: $ty),*
        }

        #[cfg(test)]
        impl $name {
            /// (name, offset, size, type) of every field, in order.
            pub(super) const LAYOUT: &[(&str, usize, usize, &str)] = &[$((
                stringify!($field),
                std::mem::offset_of!($name, $field),
                std::mem::size_of::<$ty>(),
                stringify!($ty),
            )),*];
        }
    };
}
pub(crate) use uniform_params;

/// One compute kernel as the device compiles it.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    /// The kernel's own file under `shaders/`.
    pub file: &'static str,
    /// The prelude and that file, composed.
    pub source: &'static str,
}

/// Every compute kernel, composed (`display.wgsl`, a render shader of the viewer that
/// shares nothing with them, is compiled on its own).
pub const KERNELS: [Kernel; 8] = [
    Kernel {
        file: "reduce.wgsl",
        source: super::reduce::SHADER,
    },
    Kernel {
        file: "normalize.wgsl",
        source: super::normalize::SHADER,
    },
    Kernel {
        file: "roi.wgsl",
        source: super::roi::SHADER,
    },
    Kernel {
        file: "profile.wgsl",
        source: super::profile::SHADER,
    },
    Kernel {
        file: "histogram.wgsl",
        source: super::histogram::SHADER,
    },
    Kernel {
        file: "copy.wgsl",
        source: super::bandwidth::SHADER,
    },
    Kernel {
        file: "kymograph.wgsl",
        source: super::kymograph::SHADER,
    },
    Kernel {
        file: "pca.wgsl",
        source: super::pca::SHADER,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn shader_file(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("shaders")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn each_kernel_is_the_prelude_then_its_own_file() {
        let mut want = String::new();
        for f in PRELUDE_FILES {
            want.push_str(&shader_file(f));
            want.push('\n');
        }
        for k in KERNELS {
            assert_eq!(k.source, want.clone() + &shader_file(k.file), "{}", k.file);
        }
    }

    /// (name, offset, size, WGSL type) of each field of a struct, and its size.
    type Layout = (Vec<(String, usize, usize, String)>, usize);

    /// The layout of a Rust mirror, its field types written as WGSL's: `[f32; 2]` is
    /// `vec2<f32>`.
    fn rust_layout<P>(fields: &[(&str, usize, usize, &str)]) -> Layout {
        let wgsl_type = |t: &str| match t.trim_start_matches('[').split_once(';') {
            Some((elem, n)) => {
                let n = n.trim().trim_end_matches(']');
                format!("vec{n}<{}>", elem.trim())
            }
            None => t.to_string(),
        };
        let f = fields
            .iter()
            .map(|&(n, o, s, t)| (n.to_string(), o, s, wgsl_type(t)));
        (f.collect(), std::mem::size_of::<P>())
    }

    /// The Rust mirror of every kernel's `Params`.
    fn rust_params() -> Vec<(&'static str, Layout)> {
        use super::super::*;
        vec![
            (
                "reduce.wgsl",
                rust_layout::<reduce::Params>(reduce::Params::LAYOUT),
            ),
            (
                "normalize.wgsl",
                rust_layout::<normalize::Params>(normalize::Params::LAYOUT),
            ),
            ("roi.wgsl", rust_layout::<roi::Params>(roi::Params::LAYOUT)),
            (
                "profile.wgsl",
                rust_layout::<profile::Params>(profile::Params::LAYOUT),
            ),
            (
                "histogram.wgsl",
                rust_layout::<histogram::Params>(histogram::Params::LAYOUT),
            ),
            (
                "copy.wgsl",
                rust_layout::<bandwidth::Params>(bandwidth::Params::LAYOUT),
            ),
            (
                "kymograph.wgsl",
                rust_layout::<kymograph::Params>(kymograph::Params::LAYOUT),
            ),
            ("pca.wgsl", rust_layout::<pca::Params>(pca::Params::LAYOUT)),
        ]
    }

    /// A scalar or vector type as WGSL writes it.
    fn wgsl_type_name(inner: &naga::TypeInner) -> String {
        let scalar = |s: &naga::Scalar| match (s.kind, s.width) {
            (naga::ScalarKind::Uint, 4) => "u32",
            (naga::ScalarKind::Sint, 4) => "i32",
            (naga::ScalarKind::Float, 4) => "f32",
            other => panic!("no Rust mirror for the scalar {other:?}"),
        };
        match inner {
            naga::TypeInner::Scalar(s) => scalar(s).to_string(),
            naga::TypeInner::Vector { size, scalar: s } => {
                format!("vec{}<{}>", u8::from(*size), scalar(s))
            }
            other => panic!("no Rust mirror for the WGSL type {other:?}"),
        }
    }

    /// naga's layout of the struct a module binds as its uniform: its members (name,
    /// offset, size, type) and its size, by the WGSL memory layout rules.
    fn wgsl_uniform_layout(file: &str, source: &str) -> Layout {
        let m = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{file}: {}", e.emit_to_string(source)));
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(m.to_ctx()).unwrap();
        let uniform = m
            .global_variables
            .iter()
            .find(|(_, g)| g.space == naga::AddressSpace::Uniform)
            .map(|(_, g)| g.ty)
            .unwrap_or_else(|| panic!("{file}: no uniform"));
        let ty = &m.types[uniform];
        assert_eq!(ty.name.as_deref(), Some("Params"), "{file}");
        let naga::TypeInner::Struct { members, .. } = &ty.inner else {
            panic!("{file}: Params is not a struct");
        };
        let members = members.iter().map(|mb| {
            let name = mb.name.clone().unwrap_or_default();
            let ty = wgsl_type_name(&m.types[mb.ty].inner);
            (name, mb.offset as usize, layouter[mb.ty].size as usize, ty)
        });
        (members.collect(), layouter[uniform].size as usize)
    }

    #[test]
    fn rust_params_match_the_wgsl_layout_naga_computes() {
        let mirrors = rust_params();
        for k in KERNELS {
            let (_, rust) = mirrors
                .iter()
                .find(|(f, _)| *f == k.file)
                .unwrap_or_else(|| panic!("{}: no Rust mirror of Params listed", k.file));
            let wgsl = wgsl_uniform_layout(k.file, k.source);
            assert_eq!(
                *rust, wgsl,
                "{}: Params (name, offset, size, type) per field, and size",
                k.file
            );
        }
    }

    /// The comparison catches a mirror that drifted, here by WGSL's alignment of vec2
    /// (8 bytes) that a Rust array of two f32 does not have.
    #[test]
    fn a_drifted_params_mirror_is_caught() {
        uniform_params! {
            struct Params {
                a: u32,
                b: [f32; 2],
            }
        }
        let _ = Params { a: 0, b: [0.0; 2] };
        let src = "struct Params { a: u32, b: vec2<f32> }\n\
                   @group(0) @binding(0) var<uniform> params: Params;";
        let wgsl = wgsl_uniform_layout("drift", src);
        let rust = rust_layout::<Params>(Params::LAYOUT);
        let b = |offset| ("b".to_string(), offset, 8, "vec2<f32>".to_string());
        assert_eq!(wgsl.0[1], b(8));
        assert_eq!(rust.0[1], b(4));
        assert_ne!(rust, wgsl);
        // and a field of another type at the same place
        let retyped = wgsl_uniform_layout("retyped", &src.replace("a: u32", "a: f32"));
        assert_eq!(rust.0[0], ("a".to_string(), 0, 4, "u32".to_string()));
        assert_eq!(retyped.0[0], ("a".to_string(), 0, 4, "f32".to_string()));
    }
}
