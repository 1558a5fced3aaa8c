//! The frame shown and playback through the stack.

use std::time::{Duration, Instant};

/// Frame, play/pause, rate and looping.
pub struct Playback {
    pub frame: usize,
    pub playing: bool,
    pub fps: f32,
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

    /// Play or pause.
    pub fn toggle(&mut self) {
        self.playing = !self.playing;
    }
}
