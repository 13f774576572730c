//! Where the milter listens, and a listener tuned for the milter protocol.
//!
//! The milter protocol is a string of small request/reply exchanges. On TCP, Nagle's
//! algorithm on our side plus delayed ACKs on the MTA's side hold each reply back for tens of
//! milliseconds (about 11 messages/s through Postfix with a plain `TcpListener`). Accepted
//! sockets therefore get `TCP_NODELAY`, and `TCP_QUICKACK` is re-armed after every read (Linux
//! clears it again on its own). A unix socket needs neither.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use indymilter::{EitherStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// A listen address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    /// TCP.
    Inet(SocketAddr),
    /// A unix socket.
    Unix(PathBuf),
}

impl ListenAddr {
    /// Parses `inet:HOST:PORT`, `inet:PORT@HOST`, `inet6:PORT@HOST`, `inet6:[HOST]:PORT`,
    /// `unix:PATH` or `local:PATH`.
    pub fn parse(s: &str) -> Result<ListenAddr, String> {
        let bad = || format!("listen address {s:?}: expected inet:HOST:PORT, inet:PORT@HOST or unix:PATH");
        if let Some(p) = s.strip_prefix("unix:").or_else(|| s.strip_prefix("local:")) {
            if p.is_empty() {
                return Err(bad());
            }
            return Ok(ListenAddr::Unix(PathBuf::from(p)));
        }
        let rest = s.strip_prefix("inet:").or_else(|| s.strip_prefix("inet6:")).ok_or_else(bad)?;
        if let Some((port, host)) = rest.split_once('@') {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let ip: std::net::IpAddr = host.parse().map_err(|_| bad())?;
            let port: u16 = port.parse().map_err(|_| bad())?;
            return Ok(ListenAddr::Inet(SocketAddr::new(ip, port)));
        }
        rest.parse::<SocketAddr>().map(ListenAddr::Inet).map_err(|_| bad())
    }
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Inet(a) => write!(f, "inet:{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// A TCP stream that re-arms `TCP_QUICKACK` after each read.
#[derive(Debug)]
pub struct QuickAck(TcpStream);

impl AsyncRead for QuickAck {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.0).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let _ = socket2::SockRef::from(&this.0).set_tcp_quickack(true);
        }
        r
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// The milter's listener: TCP (tuned) or unix, with a gate that stops accepting when the
/// milter drains.
#[derive(Debug)]
pub struct MilterListener {
    inner: Inner,
    draining: Arc<AtomicBool>,
}

#[derive(Debug)]
enum Inner {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl MilterListener {
    /// Binds `addr`. A stale unix socket file is replaced; `unix_mode` sets its permissions.
    pub async fn bind(addr: &ListenAddr, unix_mode: u32) -> io::Result<MilterListener> {
        match addr {
            ListenAddr::Inet(a) => Ok(MilterListener::from_tcp(TcpListener::bind(a).await?)),
            ListenAddr::Unix(p) => {
                use std::os::unix::fs::{FileTypeExt, PermissionsExt};
                if let Ok(m) = std::fs::symlink_metadata(p) {
                    if m.file_type().is_socket() {
                        std::fs::remove_file(p)?;
                    }
                }
                let l = UnixListener::bind(p)?;
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(unix_mode))?;
                Ok(MilterListener { inner: Inner::Unix(l, p.clone()), draining: Arc::default() })
            }
        }
    }

    /// Wraps a bound TCP listener (tests bind 127.0.0.1:0).
    pub fn from_tcp(l: TcpListener) -> MilterListener {
        MilterListener { inner: Inner::Tcp(l), draining: Arc::default() }
    }

    /// Wraps a bound unix listener.
    pub fn from_unix(l: UnixListener, path: PathBuf) -> MilterListener {
        MilterListener { inner: Inner::Unix(l, path), draining: Arc::default() }
    }

    /// Where it listens.
    pub fn local_addr(&self) -> io::Result<ListenAddr> {
        match &self.inner {
            Inner::Tcp(l) => Ok(ListenAddr::Inet(l.local_addr()?)),
            Inner::Unix(_, p) => Ok(ListenAddr::Unix(p.clone())),
        }
    }

    /// The drain gate: once set, no new connection is accepted.
    pub(crate) fn gate(&self) -> Arc<AtomicBool> {
        self.draining.clone()
    }
}

impl Drop for MilterListener {
    fn drop(&mut self) {
        if let Inner::Unix(_, p) = &self.inner {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Listener for MilterListener {
    type Io = EitherStream<QuickAck, UnixStream>;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Self::Io>> {
        if self.draining.load(Ordering::Acquire) {
            return Poll::Pending;
        }
        loop {
            let r = match &mut self.inner {
                Inner::Tcp(l) => match TcpListener::poll_accept(l, cx) {
                    Poll::Ready(Ok((s, _))) => {
                        let _ = s.set_nodelay(true);
                        let _ = socket2::SockRef::from(&s).set_tcp_quickack(true);
                        Ok(EitherStream::Tcp(QuickAck(s)))
                    }
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => return Poll::Pending,
                },
                Inner::Unix(l, _) => match UnixListener::poll_accept(l, cx) {
                    Poll::Ready(Ok((s, _))) => Ok(EitherStream::Unix(s)),
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => return Poll::Pending,
                },
            };
            match r {
                Ok(s) => return Poll::Ready(Ok(s)),
                // A connection that failed before it was accepted, or a transient shortage
                // of descriptors, must not end the milter (indymilter stops on any error).
                Err(e) if is_transient(&e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    if matches!(e.raw_os_error(), Some(23 | 24)) {
                        // EMFILE/ENFILE: back off briefly instead of spinning.
                        let waker = cx.waker().clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            waker.wake();
                        });
                        return Poll::Pending;
                    }
                    continue;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
        || matches!(e.raw_os_error(), Some(23 | 24 | 105 | 12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            ListenAddr::parse("inet:127.0.0.1:8890").unwrap(),
            ListenAddr::Inet("127.0.0.1:8890".parse().unwrap())
        );
        assert_eq!(
            ListenAddr::parse("inet:8890@127.0.0.1").unwrap(),
            ListenAddr::Inet("127.0.0.1:8890".parse().unwrap())
        );
        assert_eq!(ListenAddr::parse("inet6:8890@[::1]").unwrap(), ListenAddr::Inet("[::1]:8890".parse().unwrap()));
        assert_eq!(ListenAddr::parse("unix:/run/x.sock").unwrap(), ListenAddr::Unix("/run/x.sock".into()));
        for bad in ["", "inet:", "inet:host:1", "tcp:1.2.3.4:5", "unix:", "inet:99999@127.0.0.1"] {
            assert!(ListenAddr::parse(bad).is_err(), "{bad}");
        }
    }
}
