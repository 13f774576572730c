//! Checking a stream in bounded memory: the input is read in blocks; each block is normalized
//! and scanned, hits that cannot change with more input are reported, and scanning resumes at
//! a checkpoint before the unreported tail.

use std::collections::BTreeMap;
use std::io::{self, Read};

use crate::filter::Filter;
use crate::normalize::{Normalized, State};
use crate::report::{Hit, Report};
use crate::scan::{RawHit, SpanBase, count_span};

/// Bytes read per block.
const BLOCK: usize = 1 << 20;
/// Normalized bytes always kept after the last reported start, beyond the longest pattern.
const TAIL_SLACK: usize = 8 * 1024;
/// A block that cannot be cut (nothing but noise) is cut anyway past this size.
const MAX_BUFFER: usize = 64 << 20;

/// What a streamed check saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamSummary {
    /// Bytes read.
    pub bytes: u64,
    /// Hits reported.
    pub hits: u64,
    /// Hits per category id.
    pub by_category: BTreeMap<String, u64>,
}

impl Filter {
    /// Checks everything `reader` yields as one document, in bounded memory, calling `on_hit`
    /// for each hit in order. Regex matches longer than 8 KiB of normalized text may be missed
    /// at block boundaries.
    pub fn check_reader_with<R: Read>(&self, mut reader: R, mut on_hit: impl FnMut(Hit)) -> io::Result<StreamSummary> {
        let (normalizer, compiled) = self.parts();
        let tail = 2 * compiled.max_pattern_len.max(compiled.allow.max_len) + TAIL_SLACK;
        let mut summary = StreamSummary::default();
        let mut buf: Vec<u8> = Vec::with_capacity(BLOCK * 2);
        let mut base = SpanBase::default();
        let mut state = State::default();
        let mut norm = Normalized::default();
        let mut raw: Vec<RawHit> = Vec::new();
        let mut eof = false;
        // How much to hold before scanning: a block, more while no cut is possible.
        let mut want = BLOCK;
        while !eof || !buf.is_empty() {
            while !eof && buf.len() < want {
                let start = buf.len();
                buf.resize(start + 64 * 1024, 0);
                let n = loop {
                    match reader.read(&mut buf[start..]) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                buf.truncate(start + n);
                summary.bytes += n as u64;
                eof = n == 0;
            }
            normalizer.normalize_from(&buf, state, &mut norm);
            raw.clear();
            compiled.scan(normalizer, &buf, &norm, &mut raw);
            // Where to resume: a checkpoint such that every hit starting before it is complete
            // and every hit reported ends before it.
            let (cut_orig, cut_state) = if eof {
                (buf.len(), state)
            } else {
                let limit = norm.text.len().saturating_sub(tail);
                let mut cp = norm.checkpoints.iter().rev().find(|c| c.norm <= limit).copied();
                while let Some(c) = cp {
                    let end = raw.iter().filter(|h| h.start < c.orig).map(|h| h.end).max().unwrap_or(0);
                    if end <= c.orig {
                        break;
                    }
                    cp = norm.checkpoints.iter().find(|x| x.orig >= end).copied();
                }
                match cp {
                    Some(c) if c.orig > 0 => (c.orig, c.state),
                    _ if buf.len() >= MAX_BUFFER => {
                        let c = norm.checkpoints.last().copied().filter(|c| c.orig > 0);
                        c.map_or((buf.len(), State::default()), |c| (c.orig, c.state))
                    }
                    _ => {
                        // Not enough normalized text to cut yet: read more.
                        want = (buf.len() * 2).min(MAX_BUFFER);
                        continue;
                    }
                }
            };
            let done: Vec<RawHit> = raw.iter().copied().filter(|h| h.start < cut_orig).collect();
            let valid = !norm.invalid;
            let hits = compiled.dress(&buf, valid, &done, None, base);
            for hit in hits {
                summary.hits += 1;
                match summary.by_category.get_mut(hit.category.as_str()) {
                    Some(n) => *n += 1,
                    None => {
                        summary.by_category.insert(hit.category.to_string(), 1);
                    }
                }
                on_hit(hit);
            }
            let (chars, units) = count_span(&buf[..cut_orig], valid);
            base.bytes += cut_orig;
            base.chars += chars;
            base.utf16 += units;
            buf.drain(..cut_orig);
            want = BLOCK;
            state = cut_state;
            if eof {
                buf.clear();
            }
        }
        Ok(summary)
    }

    /// Checks everything `reader` yields as one document (see
    /// [`Filter::check_reader_with`]) and collects the report.
    pub fn check_reader<R: Read>(&self, reader: R) -> io::Result<Report> {
        let mut hits = Vec::new();
        self.check_reader_with(reader, |h| hits.push(h))?;
        Ok(Report::from_hits(hits))
    }
}
