//! The attach protocol between a container's monitor and its clients (`attach`, `run`,
//! `start -a`, the TUI) over a unix socket: frames of `[kind: u8][len: u32 BE][payload]`.
//!
//! A client opens with `Hello`; the monitor streams `Stdout`/`Stderr` and finally `Exit`; the
//! client sends `Stdin`, `StdinEof`, `Resize`, and `Start` to release a container whose start
//! waits for its first client (so `run` never misses the first output line).

use std::io::{self, Read, Write};

/// Upper bound on one frame's payload; larger writes are split.
pub const MAX_FRAME: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Client → monitor: which streams the client wants.
    Hello {
        stdin: bool,
        stdout: bool,
        stderr: bool,
    },
    Stdin(Vec<u8>),
    StdinEof,
    Resize {
        rows: u16,
        cols: u16,
    },
    Start,
    /// Monitor → client.
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    /// The container's exit status; the stream ends after it.
    Exit(i32),
    /// A failure the client should show.
    Error(String),
}

impl Frame {
    fn kind(&self) -> u8 {
        match self {
            Frame::Hello { .. } => 0,
            Frame::Stdin(_) => 1,
            Frame::StdinEof => 2,
            Frame::Resize { .. } => 3,
            Frame::Start => 4,
            Frame::Stdout(_) => 10,
            Frame::Stderr(_) => 11,
            Frame::Exit(_) => 12,
            Frame::Error(_) => 13,
        }
    }

    /// Serializes the frame (header and payload).
    pub fn encode(&self) -> Vec<u8> {
        let payload: Vec<u8> = match self {
            Frame::Hello { stdin, stdout, stderr } => vec![*stdin as u8, *stdout as u8, *stderr as u8],
            Frame::Stdin(d) | Frame::Stdout(d) | Frame::Stderr(d) => d.clone(),
            Frame::StdinEof | Frame::Start => Vec::new(),
            Frame::Resize { rows, cols } => [rows.to_be_bytes(), cols.to_be_bytes()].concat(),
            Frame::Exit(code) => code.to_be_bytes().to_vec(),
            Frame::Error(m) => m.as_bytes().to_vec(),
        };
        let mut out = Vec::with_capacity(5 + payload.len());
        out.push(self.kind());
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }

    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.encode())
    }

    /// Reads one frame; `Ok(None)` at a clean end of stream.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut header = [0u8; 5];
        match r.read_exact(&mut header[..1]) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            other => other?,
        }
        r.read_exact(&mut header[1..])?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if len > MAX_FRAME {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "attach frame too large"));
        }
        let mut payload = vec![0u8; len];
        r.read_exact(&mut payload)?;
        Frame::decode(header[0], payload).map(Some)
    }

    /// Builds a frame from its kind and payload.
    pub fn decode(kind: u8, p: Vec<u8>) -> io::Result<Frame> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad attach frame kind {kind}"));
        Ok(match kind {
            0 if p.len() == 3 => Frame::Hello { stdin: p[0] != 0, stdout: p[1] != 0, stderr: p[2] != 0 },
            1 => Frame::Stdin(p),
            2 => Frame::StdinEof,
            3 if p.len() == 4 => Frame::Resize {
                rows: u16::from_be_bytes([p[0], p[1]]),
                cols: u16::from_be_bytes([p[2], p[3]]),
            },
            4 => Frame::Start,
            10 => Frame::Stdout(p),
            11 => Frame::Stderr(p),
            12 if p.len() == 4 => Frame::Exit(i32::from_be_bytes([p[0], p[1], p[2], p[3]])),
            13 => Frame::Error(String::from_utf8_lossy(&p).into_owned()),
            _ => return Err(bad()),
        })
    }
}

/// Incremental decoder for a non-blocking reader: feed bytes, take whole frames.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole frame, if one is buffered.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.buf.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if len > MAX_FRAME {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "attach frame too large"));
        }
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        let kind = self.buf[0];
        let payload = self.buf[5..5 + len].to_vec();
        self.buf.drain(..5 + len);
        Frame::decode(kind, payload).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let frames = vec![
            Frame::Hello { stdin: true, stdout: true, stderr: false },
            Frame::Stdin(b"abc".to_vec()),
            Frame::StdinEof,
            Frame::Resize { rows: 24, cols: 80 },
            Frame::Start,
            Frame::Stdout(b"out".to_vec()),
            Frame::Stderr(vec![]),
            Frame::Exit(137),
            Frame::Error("boom".into()),
        ];
        let mut wire = Vec::new();
        for f in &frames {
            f.write_to(&mut wire).unwrap();
        }
        let mut r = &wire[..];
        for f in &frames {
            assert_eq!(Frame::read_from(&mut r).unwrap().as_ref(), Some(f));
        }
        assert_eq!(Frame::read_from(&mut r).unwrap(), None);
        let mut d = Decoder::default();
        d.feed(&wire[..3]);
        assert_eq!(d.next_frame().unwrap(), None);
        d.feed(&wire[3..]);
        assert_eq!(d.next_frame().unwrap(), Some(frames[0].clone()));
        let mut huge = vec![1u8];
        huge.extend_from_slice(&(1u32 << 30).to_be_bytes());
        assert!(Frame::read_from(&mut &huge[..]).is_err());
    }
}
