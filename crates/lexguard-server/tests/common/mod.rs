//! A server on 127.0.0.1:0 driven by a real HTTP client (hyper).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use lexguard_server::{Config, ServerError};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub const ADMIN: &str = "admin-secret-token";

pub struct TestServer {
    pub addr: SocketAddr,
    pub reload: mpsc::Sender<()>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), ServerError>>>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        TestServer::try_start(config).await.expect("server starts")
    }

    pub async fn try_start(config: Config) -> Result<TestServer, ServerError> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (reload, reload_rx) = mpsc::channel(4);
        let (stop, stop_rx) = oneshot::channel::<()>();
        let server = tokio::task::spawn_blocking(move || lexguard_server::Server::new(config)).await.unwrap()?;
        let handle = tokio::spawn(server.serve(listener, reload_rx, async {
            let _ = stop_rx.await;
        }));
        Ok(TestServer { addr, reload, stop: Some(stop), handle: Some(handle) })
    }

    /// A handle on a running server, for requests only.
    pub fn view(addr: SocketAddr) -> TestServer {
        let (reload, _) = mpsc::channel(1);
        TestServer { addr, reload, stop: None, handle: None }
    }

    /// Triggers shutdown and waits for the server to return.
    pub async fn stop(mut self) {
        self.stop.take().unwrap().send(()).ok();
        let h = self.handle.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), h).await.expect("server stops").unwrap().unwrap();
    }

    pub fn signal_stop(&mut self) {
        self.stop.take().unwrap().send(()).ok();
    }

    pub async fn join(mut self) {
        let h = self.handle.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), h).await.expect("server stops").unwrap().unwrap();
    }

    pub async fn req(&self, method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Resp {
        request(self.addr, method, path, headers, body.into()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.req(Method::POST, path, &[("content-type", "application/json")], body.to_string()).await
    }

    pub async fn admin(&self, method: Method, path: &str, body: &Value) -> Resp {
        let auth = format!("Bearer {ADMIN}");
        let body = if body.is_null() { String::new() } else { body.to_string() };
        self.req(method, path, &[("authorization", &auth), ("content-type", "application/json")], body).await
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn request(addr: SocketAddr, method: Method, path: &str, headers: &[(&str, &str)], body: Bytes) -> Resp {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut b = Request::builder().method(method).uri(path).header("host", addr.to_string());
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = sender.send_request(b.body(Full::new(body)).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp { status, headers, body }
}

/// A configuration with a small list directory (no shipped lexicon) and a fresh overlay.
pub fn small_config(root: &Path) -> Config {
    let lists = root.join("lists");
    std::fs::create_dir_all(&lists).unwrap();
    std::fs::write(lists.join("gambling.txt"), "赌博\n网络赌场\n在线赌场\n").unwrap();
    std::fs::write(lists.join("fraud.txt"), "办理假证\n刷单返利\taction=review\n").unwrap();
    std::fs::write(lists.join("allow.txt"), "赌博史\n").unwrap();
    let toml = format!(
        "overlay_dir = {:?}\n[lists]\ndefault = false\ndirs = [{:?}]\n",
        root.join("overlay").display().to_string(),
        lists.display().to_string()
    );
    let mut c = Config::from_toml(&toml, None).unwrap();
    c.set_admin_token(ADMIN);
    c
}

pub fn overlay(root: &Path) -> PathBuf {
    root.join("overlay")
}
