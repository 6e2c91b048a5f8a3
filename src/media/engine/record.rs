//! Recordings: the audio received on a stream (voicemail) or on both sides
//! of a bridge, decoded to 16-bit PCM at 8 kHz and written as WAV with
//! hound.
//!
//! Samples are placed by RTP timestamp, not by arrival: a lost packet
//! becomes silence of its length (up to one second; a longer jump is a new
//! source, written on without a gap), and a late or repeated packet is
//! dropped, so a recording lasts as long as what was sent. A bridge's
//! stereo recording keeps its two channels in step by padding the side
//! that has fallen more than 200 ms behind with silence (a side on hold
//! sends nothing). The file is complete once [`Recording::finish`] (or the
//! bridge's) has run, or the recording is dropped.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::media::prompt::RATE;

/// What a finished recording holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    pub path: PathBuf,
    pub duration_ms: u64,
    /// Samples per channel.
    pub samples: u64,
}

/// A recording of the audio a stream receives; see [`Stream::record`].
///
/// [`Stream::record`]: super::stream::Stream::record
pub struct Recording {
    sink: Option<Arc<Mutex<Mono>>>,
}

impl Recording {
    pub(crate) fn new(sink: Arc<Mutex<Mono>>) -> Recording {
        Recording { sink: Some(sink) }
    }

    /// Stops recording and completes the file.
    pub fn finish(mut self) -> io::Result<RecordingInfo> {
        match self.sink.take() {
            Some(sink) => lock(&sink).finish(),
            None => Err(io::Error::other("recording already finished")),
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            let _ = lock(&sink).finish();
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

type Writer = hound::WavWriter<BufWriter<File>>;

fn create(path: &Path, channels: u16) -> io::Result<Writer> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let spec = hound::WavSpec {
        channels,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::create(path, spec).map_err(to_io)
}

fn to_io(e: hound::Error) -> io::Error {
    match e {
        hound::Error::IoError(e) => e,
        other => io::Error::other(other),
    }
}

/// The longest loss filled with silence: one second.
const MAX_GAP: u32 = RATE;

/// Places packets by RTP timestamp: how many samples of silence go before
/// a packet, or `None` to drop it (late or repeated).
#[derive(Debug, Default)]
struct Timeline {
    next: Option<u32>,
}

impl Timeline {
    fn place(&mut self, timestamp: u32, len: usize) -> Option<u32> {
        let gap = match self.next {
            None => 0,
            Some(next) => {
                let ahead = timestamp.wrapping_sub(next) as i32;
                if ahead < 0 && ahead > -(MAX_GAP as i32) {
                    return None;
                }
                if ahead > 0 && ahead as u32 <= MAX_GAP {
                    ahead as u32
                } else {
                    0
                }
            }
        };
        self.next = Some(timestamp.wrapping_add(len as u32));
        Some(gap)
    }
}

/// A mono recording in progress.
pub(crate) struct Mono {
    path: PathBuf,
    writer: Option<Writer>,
    timeline: Timeline,
    samples: u64,
    /// The first write error, reported by `finish`.
    error: Option<io::Error>,
    info: Option<RecordingInfo>,
}

impl Mono {
    pub(crate) fn create(path: &Path) -> io::Result<Mono> {
        Ok(Mono {
            path: path.to_path_buf(),
            writer: Some(create(path, 1)?),
            timeline: Timeline::default(),
            samples: 0,
            error: None,
            info: None,
        })
    }

    /// Whether the recording has been finished (later packets are not
    /// written).
    pub(crate) fn is_finished(&self) -> bool {
        self.writer.is_none()
    }

    /// Writes one received payload at its RTP timestamp.
    pub(crate) fn push(&mut self, timestamp: u32, payload: &[u8], decode: fn(u8) -> i16) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        let Some(gap) = self.timeline.place(timestamp, payload.len()) else {
            return;
        };
        let samples = (0..gap)
            .map(|_| 0)
            .chain(payload.iter().map(|&c| decode(c)));
        for sample in samples {
            if let Err(e) = writer.write_sample(sample) {
                self.error.get_or_insert(to_io(e));
                return;
            }
            self.samples += 1;
        }
    }

    pub(crate) fn finish(&mut self) -> io::Result<RecordingInfo> {
        if let Some(writer) = self.writer.take() {
            let done = writer.finalize().map_err(to_io);
            if let Some(e) = self.error.take() {
                return Err(e);
            }
            done?;
            self.info = Some(info(&self.path, self.samples));
        }
        self.info
            .clone()
            .ok_or_else(|| io::Error::other("recording failed"))
    }
}

fn info(path: &Path, samples: u64) -> RecordingInfo {
    RecordingInfo {
        path: path.to_path_buf(),
        duration_ms: samples * 1000 / u64::from(RATE),
        samples,
    }
}

/// Which channel of a stereo recording a stream's audio goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Left,
    Right,
}

/// How far one side may run ahead of the other before the other is padded
/// with silence: 200 ms.
const MAX_LEAD: usize = RATE as usize / 5;

/// A bridge's stereo recording in progress: left is what the first stream
/// received, right the second.
pub(crate) struct Stereo {
    path: PathBuf,
    writer: Option<Writer>,
    timelines: [Timeline; 2],
    /// Decoded samples of each side not yet written.
    pending: [std::collections::VecDeque<i16>; 2],
    frames: u64,
    error: Option<io::Error>,
}

impl Stereo {
    pub(crate) fn create(path: &Path) -> io::Result<Stereo> {
        Ok(Stereo {
            path: path.to_path_buf(),
            writer: Some(create(path, 2)?),
            timelines: Default::default(),
            pending: Default::default(),
            frames: 0,
            error: None,
        })
    }

    pub(crate) fn push(
        &mut self,
        channel: Channel,
        timestamp: u32,
        payload: &[u8],
        decode: fn(u8) -> i16,
    ) {
        if self.writer.is_none() {
            return;
        }
        let side = channel as usize;
        let Some(gap) = self.timelines[side].place(timestamp, payload.len()) else {
            return;
        };
        let queue = &mut self.pending[side];
        queue.extend((0..gap).map(|_| 0));
        queue.extend(payload.iter().map(|&c| decode(c)));
        let ready = self.pending[0].len().min(self.pending[1].len());
        self.write(ready);
        // A side far ahead: the other is silent, pad it.
        let lead = self.pending[side].len();
        if lead > MAX_LEAD {
            let other = 1 - side;
            let pad = lead - MAX_LEAD / 2 - self.pending[other].len();
            self.pending[other].extend((0..pad).map(|_| 0));
            self.write(lead - MAX_LEAD / 2);
        }
    }

    /// Writes `n` frames (both queues hold at least `n`).
    fn write(&mut self, n: usize) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        for _ in 0..n {
            let left = self.pending[0].pop_front().unwrap_or(0);
            let right = self.pending[1].pop_front().unwrap_or(0);
            if let Err(e) = writer
                .write_sample(left)
                .and_then(|()| writer.write_sample(right))
            {
                self.error.get_or_insert(to_io(e));
                return;
            }
            self.frames += 1;
        }
    }

    pub(crate) fn finish(&mut self) -> io::Result<RecordingInfo> {
        let rest = self.pending[0].len().max(self.pending[1].len());
        self.write(rest);
        let Some(writer) = self.writer.take() else {
            return Err(io::Error::other("recording already finished"));
        };
        let done = writer.finalize().map_err(to_io);
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        done?;
        Ok(info(&self.path, self.frames))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("dialect-record-{}", std::process::id()))
            .join(name)
    }

    fn read(path: &Path) -> (hound::WavSpec, Vec<i16>) {
        let reader = hound::WavReader::open(path).unwrap();
        let spec = reader.spec();
        (spec, reader.into_samples().map(Result::unwrap).collect())
    }

    #[test]
    fn losses_are_silence_and_late_packets_are_dropped() {
        let path = temp("mono.wav");
        let mut mono = Mono::create(&path).unwrap();
        let frame = [g711::ulaw_encode(1000); 160];
        mono.push(1000, &frame, g711::ulaw_decode);
        // One frame lost.
        mono.push(1320, &frame, g711::ulaw_decode);
        // A repeat and a late packet.
        mono.push(1320, &frame, g711::ulaw_decode);
        mono.push(1160, &frame, g711::ulaw_decode);
        // A jump of a minute: a new source, no gap.
        mono.push(1320 + 160 + 480_000, &frame, g711::ulaw_decode);
        let info = mono.finish().unwrap();
        assert_eq!(info.samples, 4 * 160);
        assert_eq!(info.duration_ms, 80);
        let (spec, samples) = read(&path);
        assert_eq!((spec.channels, spec.sample_rate), (1, 8000));
        let loud = g711::ulaw_decode(frame[0]);
        assert!(samples[..160].iter().all(|&s| s == loud));
        assert!(samples[160..320].iter().all(|&s| s == 0));
        assert!(samples[320..].iter().all(|&s| s == loud));
        // Finishing again gives the same answer; later packets are not
        // written.
        mono.push(999_999, &frame, g711::ulaw_decode);
        assert_eq!(mono.finish().unwrap(), info);
    }

    #[test]
    fn stereo_keeps_both_sides_in_step() {
        let path = temp("stereo.wav");
        let mut stereo = Stereo::create(&path).unwrap();
        let a = [g711::alaw_encode(2000); 160];
        let b = [g711::ulaw_encode(-3000); 160];
        for i in 0..10u32 {
            stereo.push(Channel::Left, i * 160, &a, g711::alaw_decode);
            stereo.push(Channel::Right, 5000 + i * 160, &b, g711::ulaw_decode);
        }
        // The right side goes quiet (hold) for a second: the left goes on.
        for i in 10..60u32 {
            stereo.push(Channel::Left, i * 160, &a, g711::alaw_decode);
        }
        let info = stereo.finish().unwrap();
        assert_eq!(info.samples, 60 * 160);
        let (spec, samples) = read(&path);
        assert_eq!(spec.channels, 2);
        assert_eq!(samples.len(), 2 * 60 * 160);
        let (l, r) = (g711::alaw_decode(a[0]), g711::ulaw_decode(b[0]));
        assert!(samples.chunks(2).all(|f| f[0] == l));
        assert!(samples.chunks(2).take(1600).all(|f| f[1] == r));
        assert!(samples.chunks(2).skip(1600).all(|f| f[1] == 0));
    }
}
