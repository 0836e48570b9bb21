//! Headless Chromium driven over the DevTools protocol, for page tests that click: Chromium
//! starts with `--remote-debugging-port=0`, prints its browser WebSocket URL on stderr, and
//! a minimal WebSocket client (RFC 6455 text frames, masked from the client) sends
//! `Target.*`, `Page.*` and `Runtime.evaluate` commands on one flattened session.
//!
//! Needs `/usr/bin/chromium` (`scripts/install-chromium.sh`): [`chromium`] answers `None`
//! locally when it is missing and panics in CI (`CI=true`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The Chromium binary, if installed (a failure in CI when not).
pub fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("chromium is missing: run scripts/install-chromium.sh (apt-get install chromium)");
    }
    eprintln!("skipping the browser test: /usr/bin/chromium is missing (run scripts/install-chromium.sh)");
    None
}

/// Where tests write screenshots: `docs/screenshots/` with `OPSLINE_UPDATE_SCREENSHOTS=1`,
/// else `temp` (a test's temporary folder).
pub fn screenshot_dir(temp: &Path) -> PathBuf {
    if std::env::var("OPSLINE_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        crate::repo_root().join("docs/screenshots")
    } else {
        temp.to_path_buf()
    }
}

/// A running headless Chromium with one page attached.
pub struct Browser {
    _child: Child,
    socket: TcpStream,
    session: String,
    next_id: u64,
}

impl Browser {
    /// Starts Chromium with a fresh profile under `profile` and opens a blank page.
    pub async fn start(bin: &Path, profile: &Path) -> Self {
        let mut child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--window-size=1400,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let ws_url = tokio::time::timeout(Duration::from_secs(40), async {
            while let Some(line) = lines.next_line().await.expect("chromium stderr") {
                if let Some(at) = line.find("ws://") {
                    return line[at..].trim().to_owned();
                }
            }
            panic!("chromium exited without a DevTools URL");
        })
        .await
        .expect("chromium prints its DevTools URL within 40 s");
        // Keep draining stderr so Chromium never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let rest = ws_url.trim_start_matches("ws://");
        let (host, path) = rest.split_once('/').expect("ws url has a path");
        let socket = connect(host, &format!("/{path}")).await;
        let mut browser = Self {
            _child: child,
            socket,
            session: String::new(),
            next_id: 0,
        };
        let target = browser
            .command("Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let target_id = target["targetId"].as_str().expect("targetId").to_owned();
        let attached = browser
            .command(
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await;
        browser.session = attached["sessionId"].as_str().expect("sessionId").to_owned();
        browser.command("Page.enable", json!({})).await;
        browser
    }

    /// Sends one command (on the page's session once attached) and returns its `result`.
    pub async fn command(&mut self, method: &str, params: Value) -> Value {
        match self.try_command(method, params).await {
            Ok(result) => result,
            Err(error) => panic!("{method} failed: {error}"),
        }
    }

    /// Like [`Self::command`], with DevTools' error answer as `Err`.
    async fn try_command(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = Value::String(self.session.clone());
        }
        send_text(&mut self.socket, message.to_string().as_bytes()).await;
        loop {
            let text = tokio::time::timeout(Duration::from_secs(40), read_message(&mut self.socket))
                .await
                .unwrap_or_else(|_| panic!("no answer to {method} within 40 s"));
            let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
            if value["id"].as_u64() == Some(id) {
                if value.get("error").is_some() {
                    return Err(value);
                }
                return Ok(value["result"].clone());
            }
        }
    }

    /// Opens `url` in the page.
    pub async fn navigate(&mut self, url: &str) {
        self.command("Page.navigate", json!({ "url": url })).await;
    }

    /// Evaluates `expression` in the page and returns its value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .command(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Waits (at most `max`) until `expression` is `true` in a fully loaded page.
    pub async fn wait_for(&mut self, expression: &str, max: Duration) {
        let deadline = tokio::time::Instant::now() + max;
        let check = format!("document.readyState === 'complete' && !!({expression})");
        loop {
            // While the page navigates (a form was just submitted), an evaluation can fail with
            // "Inspected target navigated or closed": not yet true, ask again.
            let answer = self
                .try_command(
                    "Runtime.evaluate",
                    json!({ "expression": check, "returnByValue": true }),
                )
                .await;
            if answer.is_ok_and(|result| result["result"]["value"] == Value::Bool(true)) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let html = self.html().await;
                panic!("`{expression}` not true within {max:?}; page: {html}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching the CSS `selector` (a form button or a link: the
    /// pages have no script of their own); panics when nothing matches.
    pub async fn click(&mut self, selector: &str) {
        let selector_js = serde_json::to_string(selector).expect("selector as JSON");
        let clicked = self
            .eval(&format!(
                "(() => {{ const b = document.querySelector({selector_js}); if (!b) return false; b.click(); return true; }})()"
            ))
            .await;
        assert_eq!(clicked, Value::Bool(true), "nothing matches {selector}");
    }

    /// The page's HTML.
    pub async fn html(&mut self) -> String {
        self.eval("document.documentElement.outerHTML")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Writes a PNG screenshot of the whole page to `path`; its size in bytes.
    pub async fn screenshot(&mut self, path: &Path) -> usize {
        let shot = self
            .command(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true }),
            )
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("png data"))
            .expect("base64 png");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot folder");
        }
        std::fs::write(path, &bytes).expect("write screenshot");
        bytes.len()
    }
}

async fn connect(host: &str, path: &str) -> TcpStream {
    let mut socket = TcpStream::connect(host).await.expect("connect to DevTools");
    let key = base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::now_v7().as_bytes());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.expect("handshake");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).await.expect("handshake answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(
        head.starts_with("HTTP/1.1 101"),
        "DevTools refused the WebSocket: {head}"
    );
    socket
}

async fn send_text(socket: &mut TcpStream, payload: &[u8]) {
    let mut frame = vec![0x81u8];
    let len = payload.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len < 65_536 {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let mask: [u8; 4] = uuid::Uuid::now_v7().as_bytes()[12..].try_into().expect("4 bytes");
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    socket.write_all(&frame).await.expect("send frame");
}

/// Reads one whole text message (continuation frames joined; pings answered).
async fn read_message(socket: &mut TcpStream) -> String {
    let mut message = Vec::new();
    loop {
        let mut head = [0u8; 2];
        socket.read_exact(&mut head).await.expect("frame head");
        let fin = head[0] & 0x80 != 0;
        let opcode = head[0] & 0x0f;
        let mut len = u64::from(head[1] & 0x7f);
        if len == 126 {
            let mut ext = [0u8; 2];
            socket.read_exact(&mut ext).await.expect("frame length");
            len = u64::from(u16::from_be_bytes(ext));
        } else if len == 127 {
            let mut ext = [0u8; 8];
            socket.read_exact(&mut ext).await.expect("frame length");
            len = u64::from_be_bytes(ext);
        }
        let mut payload = vec![0u8; usize::try_from(len).expect("frame fits in memory")];
        socket.read_exact(&mut payload).await.expect("frame payload");
        match opcode {
            0x8 => panic!("DevTools closed the connection"),
            0x9 => {
                // Ping: answer with a masked pong carrying the same payload.
                let mut pong = vec![0x8a, 0x80 | payload.len() as u8, 0, 0, 0, 0];
                pong.extend_from_slice(&payload);
                socket.write_all(&pong).await.expect("pong");
            }
            0xa => {}
            _ => {
                message.extend_from_slice(&payload);
                if fin {
                    return String::from_utf8(message).expect("UTF-8 message");
                }
            }
        }
    }
}
