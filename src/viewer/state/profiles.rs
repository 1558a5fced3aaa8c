//! Crosshair profiles of the shown image and their envelopes. The dataset envelope reads
//! every frame: it is cached per stack, crosshair, width and percentile (spec §4.2), and
//! computed in a background job when the stack is mapped or large.

use crate::ops::OpError;
use crate::ops::profile::{self, Envelope, Orientation, Profile};
use crate::stack::Stack;

use super::ViewerState;
use super::job::{Job, take_finished};

/// Both crosshair profiles of the shown image with the envelopes asked for.
pub struct Profiles {
    pub h: Profile,
    pub v: Profile,
    /// (name, row envelope, column envelope)
    pub envelopes: Vec<(&'static str, Envelope, Envelope)>,
}

/// What a dataset envelope is of: the stack (and the shown image when one replaces the
/// frames), crosshair x and y, line width and percentile.
pub type EnvelopeKey = ((u64, Option<u64>), usize, usize, usize, u32);

/// Dataset envelopes kept between frames: key, row and column envelope.
pub type EnvelopeCache = (EnvelopeKey, Envelope, Envelope);

/// A dataset envelope computed in the background.
pub struct EnvelopeJob {
    pub key: EnvelopeKey,
    pub job: Job<(Envelope, Envelope)>,
}

/// The crosshair, the profile line width and the envelopes asked for.
#[derive(Default)]
pub struct ProfileState {
    /// Crosshair of the profiles (x, y) in the shown image.
    pub crosshair: Option<(usize, usize)>,
    /// Profile line width.
    pub width: usize,
    pub env_image: bool,
    pub env_band: bool,
    pub env_dataset: bool,
    pub env_q: u32,
    /// The last dataset envelopes.
    pub env_cache: Option<EnvelopeCache>,
    /// The crosshair is being dragged (the dataset envelope waits).
    pub dragged: bool,
    /// Position hovered in a profile plot, marked on the image.
    pub hover: Option<(usize, usize)>,
}

impl ViewerState {
    /// The crosshair moved to data position (x, y); ignored outside the shown image.
    pub fn set_crosshair_at(&mut self, x: f32, y: f32) {
        if let Some(p) = self.pixel_at(x, y) {
            self.profile.crosshair = Some(p);
        }
    }

    /// The crosshair profiles of the shown image, with the envelopes switched on. The
    /// dataset envelope is left out while it is computed in the background.
    pub fn profiles(&mut self) -> Result<Option<Profiles>, OpError> {
        self.poll_envelope();
        let Some((cx, cy)) = self.profile.crosshair else {
            return Ok(None);
        };
        let (s, t) = self.shown();
        let sh = s.shape();
        let (cx, cy) = (cx.min(sh.width - 1), cy.min(sh.height - 1));
        let st = &self.profile;
        let (k, q) = (st.width, st.env_q);
        let h = profile::profile(s, t, Orientation::Row, cy, k)?;
        let v = profile::profile(s, t, Orientation::Col, cx, k)?;
        let mut envelopes = Vec::new();
        if st.env_image {
            envelopes.push((
                "min/max of the image",
                profile::image_envelope(s, t, Orientation::Row, q)?,
                profile::image_envelope(s, t, Orientation::Col, q)?,
            ));
        }
        if st.env_band {
            envelopes.push((
                "crosshair band",
                profile::band_envelope(s, t, Orientation::Row, cy, k, q)?,
                profile::band_envelope(s, t, Orientation::Col, cx, k, q)?,
            ));
        }
        // over every frame of what is shown (one frame in aggregate mode); a preview has
        // only the one processed frame, so its dataset envelope waits for apply-to-full
        let p = &self.pipeline;
        let previewing = p.shown.is_some() && p.aggregate.is_none();
        // skipped while the crosshair is dragged (spec §4.2): it reads every frame
        if st.env_dataset && !previewing && !st.dragged {
            let shown_gen = p.shown.as_ref().map(|_| self.gens.shown);
            let key = ((self.gens.stack, shown_gen), cx, cy, k, q);
            if let Some((row, col)) = self.dataset_envelope(key)? {
                envelopes.push(("dataset", row, col));
            }
        }
        Ok(Some(Profiles { h, v, envelopes }))
    }

    /// The dataset envelopes of `key` from the cache, computed now, or (for a mapped or
    /// large stack) started in the background and None until they arrive.
    fn dataset_envelope(
        &mut self,
        key: EnvelopeKey,
    ) -> Result<Option<(Envelope, Envelope)>, OpError> {
        if let Some((_, r, c)) = self
            .profile
            .env_cache
            .as_ref()
            .filter(|(kk, _, _)| *kk == key)
        {
            return Ok(Some((r.clone(), c.clone())));
        }
        let d: std::sync::Arc<Stack> = match &self.pipeline.shown {
            Some(img) => img.clone(),
            None => self.pipeline.stack.clone(),
        };
        let (_, cx, cy, k, q) = key;
        if self.in_background(&d) {
            // the running one finishes first (its result is cached under its own key)
            if self.jobs.envelope.is_none() {
                let engine = self.compute.engine.clone();
                let job = Job::spawn("dataset envelope", move |ctx| {
                    ctx.begin("rows", 2);
                    let r = engine.dataset_envelope(&d, Orientation::Row, cy, k, q)?.0;
                    ctx.check()?;
                    ctx.step(1);
                    ctx.begin("columns", 2);
                    let c = engine.dataset_envelope(&d, Orientation::Col, cx, k, q)?.0;
                    Ok((r, c))
                });
                self.jobs.envelope = Some(EnvelopeJob { key, job });
            }
            return Ok(None);
        }
        let engine = &self.compute.engine;
        let r = engine.dataset_envelope(&d, Orientation::Row, cy, k, q)?.0;
        let c = engine.dataset_envelope(&d, Orientation::Col, cx, k, q)?.0;
        self.profile.env_cache = Some((key, r.clone(), c.clone()));
        Ok(Some((r, c)))
    }

    /// Takes a finished background envelope into the cache.
    pub(super) fn poll_envelope(&mut self) {
        let Some(key) = self.jobs.envelope.as_ref().map(|j| j.key) else {
            return;
        };
        let mut slot = self.jobs.envelope.take().map(|j| j.job);
        match take_finished(&mut slot) {
            None => {
                if let Some(job) = slot {
                    self.jobs.envelope = Some(EnvelopeJob { key, job });
                }
            }
            Some(Ok((r, c))) => self.profile.env_cache = Some((key, r, c)),
            Some(Err(e)) if e.is_cancelled() => {}
            Some(Err(e)) => {
                self.profile.env_dataset = false;
                self.error = Some(format!("dataset envelope: {e}"));
            }
        }
    }

    /// Stops the background dataset envelope and turns it off, so it does not restart.
    pub fn cancel_envelope(&mut self) {
        if self.jobs.envelope.take().is_some() {
            self.profile.env_dataset = false;
            self.status = "dataset envelope cancelled".into();
        }
    }
}
