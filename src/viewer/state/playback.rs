//! The frame shown and playback through the stack.

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
    /// When playback started and from which frame (frames advance from there by time).
    clock: Option<(Instant, usize)>,
}

impl Default for Playback {
    fn default() -> Self {
        Playback {
            frame: 0,
            playing: false,
            fps: 25.0,
            source_rate: None,
            speed: 1.0,
            looping: true,
            clock: None,
        }
    }
}

impl Playback {
    /// The frame playback reaches at `now` in a stack of `frames` frames, looping or
    /// stopping at the end; None while paused.
    pub fn advance(&mut self, now: Instant, frames: usize) -> Option<usize> {
        if !self.playing {
            self.clock = None;
            return None;
        }
        let (start, first) = *self.clock.get_or_insert((now, self.frame));
        let steps = ((now - start).as_secs_f32() * self.fps.max(0.1)) as usize;
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
        let Some((start, _)) = self.clock else {
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
        self.clock = None;
    }

    /// Play or pause.
    pub fn toggle(&mut self) {
        self.playing = !self.playing;
    }
}
