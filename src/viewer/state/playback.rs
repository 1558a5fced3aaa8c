//! The frame shown and playback through the stack. Playback shows every frame by default:
//! when the machine draws slower than the rate asked, it plays slower and says how fast
//! it got; with `skip_frames` it keeps the rate and counts the frames it skipped.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The most frames a second playback defaults to; a faster recording plays slowed down.
pub const DEFAULT_MAX_FPS: f64 = 60.0;

/// Frame, play/pause, rate and looping.
pub struct Playback {
    pub frame: usize,
    pub playing: bool,
    /// Frames shown a second.
    pub fps: f32,
    /// Displayed frames a second at real time, from the source (None: it does not say).
    pub source_rate: Option<f64>,
    /// Fraction of real time played (`fps / source_rate`) when the source has a rate.
    pub speed: f64,
    pub looping: bool,
    /// Keep the rate by skipping frames the machine cannot draw in time (else every
    /// frame is shown, slower).
    pub skip_frames: bool,
    /// Frames skipped since playback started (with `skip_frames`).
    pub skipped: u64,
    /// When playback started and from which frame (frames advance from there by time),
    /// and how many steps it had taken at the last advance.
    clock: Option<(Instant, usize, usize)>,
    /// When the last frames were advanced to while playing (the achieved rate).
    advanced: VecDeque<Instant>,
}

/// Frames the achieved rate is measured over.
const RATE_WINDOW: usize = 30;

impl Default for Playback {
    fn default() -> Self {
        Playback {
            frame: 0,
            playing: false,
            fps: 25.0,
            source_rate: None,
            speed: 1.0,
            looping: true,
            skip_frames: false,
            skipped: 0,
            clock: None,
            advanced: VecDeque::new(),
        }
    }
}

impl Playback {
    /// The frame playback reaches at `now` in a stack of `frames` frames, looping or
    /// stopping at the end; None while paused.
    pub fn advance(&mut self, now: Instant, frames: usize) -> Option<usize> {
        if !self.playing {
            self.clock = None;
            self.advanced.clear();
            return None;
        }
        let (start, first, before) = *self.clock.get_or_insert((now, self.frame, 0));
        let period = 1.0 / f64::from(self.fps.max(0.1));
        let mut steps = ((now - start).as_secs_f64() / period) as usize;
        if steps > before {
            self.advanced.push_back(now);
            if self.advanced.len() > RATE_WINDOW {
                self.advanced.pop_front();
            }
            if self.skip_frames {
                self.skipped += (steps - before - 1) as u64;
            } else if steps > before + 1 {
                // late by more than a frame: show the next one, and count the time from
                // now (slower, every frame shown)
                steps = before + 1;
                self.clock = Some((now, first + steps, 0));
            }
        }
        if let Some(c) = self.clock.as_mut().filter(|c| c.0 == start) {
            c.2 = steps;
        }
        let mut t = first + steps;
        if t >= frames {
            if self.looping {
                t %= frames;
            } else {
                t = frames - 1;
                self.playing = false;
            }
        }
        Some(t)
    }

    /// How long from `now` until playback reaches its next frame; None while paused
    /// (the window sleeps until then instead of redrawing without pause).
    pub fn until_next(&self, now: Instant) -> Option<Duration> {
        if !self.playing {
            return None;
        }
        let Some((start, _, _)) = self.clock else {
            return Some(Duration::ZERO);
        };
        let period = 1.0 / f64::from(self.fps.max(0.1));
        let elapsed = (now - start).as_secs_f64();
        let next = ((elapsed / period).floor() + 1.0) * period;
        Some(Duration::from_secs_f64((next - elapsed).max(0.0)))
    }

    /// A new source's rate: playback runs at it in real time, or slowed down to
    /// [`DEFAULT_MAX_FPS`] for a faster recording (90 000 fps plays at 60, speed 1/1500).
    pub fn set_source_rate(&mut self, rate: Option<f64>) {
        self.source_rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        match self.source_rate {
            Some(r) => self.set_speed((DEFAULT_MAX_FPS / r).min(1.0)),
            None => {
                self.speed = 1.0;
                self.set_fps(25.0);
            }
        }
    }

    /// Plays at `speed` times real time (a source without a rate: no change).
    pub fn set_speed(&mut self, speed: f64) {
        if let Some(r) = self.source_rate {
            self.speed = speed.max(1e-9);
            self.set_fps((r * self.speed) as f32);
        }
    }

    /// Shows `fps` frames a second (the speed follows); playback goes on from the frame
    /// shown, without a jump.
    pub fn set_fps(&mut self, fps: f32) {
        self.fps = fps.clamp(0.1, 1000.0);
        if let Some(r) = self.source_rate {
            self.speed = f64::from(self.fps) / r;
        }
        // the achieved rate and the skipped frames count from the new rate on
        self.clock = None;
        self.advanced.clear();
        self.skipped = 0;
    }

    /// Play or pause.
    pub fn toggle(&mut self) {
        self.playing = !self.playing;
        self.skipped = 0;
    }

    /// Frames a second drawn over the last frames played (None before two of them).
    pub fn achieved_fps(&self) -> Option<f64> {
        let (a, b) = (self.advanced.front()?, self.advanced.back()?);
        let secs = (*b - *a).as_secs_f64();
        (self.advanced.len() >= 2 && secs > 0.0).then(|| (self.advanced.len() - 1) as f64 / secs)
    }

    /// The achieved rate in words, when it falls short of the rate asked or frames were
    /// skipped ("18.2 fps of 60: every frame is shown, slower"); None while it keeps up.
    pub fn shortfall(&self) -> Option<String> {
        if !self.playing {
            return None;
        }
        let got = self.achieved_fps()?;
        let want = f64::from(self.fps);
        if self.skip_frames && self.skipped > 0 {
            return Some(format!(
                "{got:.1} fps drawn of {want:.0}: {} frames skipped to keep the rate",
                self.skipped
            ));
        }
        (got < 0.9 * want && self.advanced.len() >= 5).then(|| {
            format!("{got:.1} fps of {want:.0}: the machine draws slower, every frame is shown")
        })
    }
}
