// SPDX-License-Identifier: GPL-2.0
//! The controller's side of the agents' protocol (see [`super::agent`]): one
//! request line, one reply line, over the agent's Unix stream.

use std::{
    io::{self, BufRead, BufReader, Write},
    os::{
        fd::AsRawFd,
        unix::net::{UnixListener, UnixStream},
    },
    time::Duration,
};

/// How long a reply or a new agent may take before the run is declared hung.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a real operation answered: numbers, or an errno.
pub(super) type Reply = Result<Vec<i32>, i32>;

/// The controller's connection to one agent.
pub(super) struct Conn {
    /// The replies, a line each.
    reader: BufReader<UnixStream>,
    /// The requests, a line each.
    writer: UnixStream,
}

impl Conn {
    /// A connection on `stream`, whose replies may take up to [`TIMEOUT`].
    fn new(stream: UnixStream) -> io::Result<Self> {
        stream.set_read_timeout(Some(TIMEOUT))?;
        Ok(Conn {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }

    /// Sends the request line `req`.
    pub(super) fn send(&mut self, req: &str) -> io::Result<()> {
        writeln!(self.writer, "{req}")
    }

    /// Waits for a new agent to connect on `listener` and say hello: its
    /// connection, and its NSpid (the initial namespace first).
    pub(super) fn accept(listener: &UnixListener) -> io::Result<(Self, Vec<i32>)> {
        let mut pfd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, TIMEOUT.as_millis() as i32) };
        if n != 1 {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no agent connected",
            ));
        }
        let (stream, _) = listener.accept()?;
        let mut conn = Self::new(stream)?;
        let hello = conn.recv()?.map_err(io::Error::from_raw_os_error)?;
        Ok((conn, hello))
    }

    /// Reads one reply line: `ok N...` (or the `hello N...` of a new agent)
    /// or `err ERRNO`.
    pub(super) fn recv(&mut self) -> io::Result<Reply> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "agent gone"));
        }
        let mut w = line.split_whitespace();
        let nums = |w: std::str::SplitWhitespace<'_>| w.filter_map(|n| n.parse().ok()).collect();
        match w.next() {
            Some("ok") | Some("hello") => Ok(Ok(nums(w))),
            Some("err") => Ok(Err(w
                .next()
                .and_then(|e| e.parse().ok())
                .unwrap_or(libc::EIO))),
            _ => Err(io::Error::new(io::ErrorKind::InvalidData, line)),
        }
    }

    /// Sends `req` and reads its reply.
    pub(super) fn call(&mut self, req: &str) -> io::Result<Reply> {
        self.send(req)?;
        self.recv()
    }
}
