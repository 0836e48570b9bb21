//! `spawn_rt`: a private Request Tracker 5 per test (Debian's `request-tracker5`, installed by
//! `scripts/install-rt.sh`): its own temp dir with a site config (`RT_SITE_CONFIG`, nothing
//! read from `/etc/request-tracker5/RT_SiteConfig.d`), a fresh SQLite database made by
//! `rt-setup-database` with the given queues and Opsline's custom fields
//! (`deploy/rt/opsline-initialdata`), and RT's standalone server `rt-server` (Starlet, two
//! workers) on a free port, in a process group of its own that is killed on drop (the server
//! and the workers it forked, nothing else). [`TestRt`] talks to RT only through its REST 2 API.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// RT's superuser after `rt-setup-database --action init`, and its password.
pub const RT_USER: &str = "root";
/// The superuser's initial password.
pub const RT_PASSWORD: &str = "password";

const RT_SERVER: &str = "/usr/share/request-tracker5/libexec/rt-server";
/// Debian's path (in `/usr/sbin`, outside a normal user's `PATH`).
const RT_SETUP_DATABASE: &str = "/usr/sbin/rt-setup-database";

/// An RT owned by one test.
pub struct TestRt {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The rt-server process.
    child: Child,
    /// Site config, database and log; removed on drop.
    pub dir: tempfile::TempDir,
    client: reqwest::Client,
}

/// Whether RT is installed (scripts/install-rt.sh).
pub fn rt_installed() -> bool {
    Path::new(RT_SERVER).exists()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn rt_command(program: &str, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env("RT_SITE_CONFIG", dir.join("RT_SiteConfig.pm"))
        .env("RT_SITE_CONFIG_DIR", dir.join("site.d"))
        .current_dir(dir);
    command
}

fn setup(dir: &Path, args: &[&str]) {
    let out = rt_command(RT_SETUP_DATABASE, dir)
        .args(args)
        .output()
        .expect("run rt-setup-database (scripts/install-rt.sh)");
    assert!(
        out.status.success(),
        "rt-setup-database {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts RT with a fresh database holding `queues` (besides RT's `General`) and Opsline's
/// custom fields; waits until REST 2 answers (panics when RT is not installed).
pub async fn spawn_rt(queues: &[&str]) -> TestRt {
    assert!(rt_installed(), "RT is not installed: run scripts/install-rt.sh");
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    std::fs::create_dir_all(dir.path().join("site.d")).unwrap();
    let config = format!(
        "Set($rtname, 'opsline-test');\nSet($Organization, 'opsline.test');\nSet($Timezone, 'UTC');\n\
Set($WebDomain, '127.0.0.1');\nSet($WebPort, {port});\nSet($WebPath, '');\n\
Set($DatabaseType, 'SQLite');\nSet($DatabaseName, '{}');\n\
Set($LogToSTDERR, 'warning');\nSet($LogToSyslog, undef);\nSet($LogToFile, undef);\n\
Set($MailCommand, 'testfile');\n1;\n",
        dir.path().join("rt.db").display()
    );
    std::fs::write(dir.path().join("RT_SiteConfig.pm"), config).unwrap();
    let queue_data: String = queues
        .iter()
        .map(|q| format!("  {{ Name => '{}' }},\n", q.replace('\'', "\\'")))
        .collect();
    std::fs::write(dir.path().join("queues"), format!("@Queues = (\n{queue_data});\n1;\n")).unwrap();
    setup(dir.path(), &["--action", "init", "--skip-create"]);
    let fields: PathBuf = crate::repo_root().join("deploy/rt/opsline-initialdata");
    setup(
        dir.path(),
        &["--action", "insert", "--datafile", &fields.display().to_string()],
    );
    let queues_file = dir.path().join("queues").display().to_string();
    setup(dir.path(), &["--action", "insert", "--datafile", &queues_file]);
    let log = std::fs::File::create(dir.path().join("rt-server.log")).unwrap();
    let child = rt_command(RT_SERVER, dir.path())
        .args(["--port", &port.to_string(), "--max-workers", "2"])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start rt-server");
    let rt = TestRt {
        url: format!("http://127.0.0.1:{port}"),
        child,
        dir,
        client: reqwest::Client::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = rt
            .client
            .get(rt.rest("queues/all"))
            .basic_auth(RT_USER, Some(RT_PASSWORD))
            .send()
            .await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            break;
        }
        assert!(Instant::now() < deadline, "RT did not answer within 60 s: {}", rt.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    rt
}

impl TestRt {
    fn rest(&self, path: &str) -> String {
        format!("{}/REST/2.0/{path}", self.url)
    }

    /// rt-server's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rt-server.log")).unwrap_or_default()
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method, self.rest(path))
            .basic_auth(RT_USER, Some(RT_PASSWORD));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("RT answers");
        let status = answer.status();
        let text = answer.text().await.expect("RT body");
        assert!(status.is_success(), "RT {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Creates a ticket in `queue` through REST 2 (as a requestor would through RT); its number.
    pub async fn create_ticket(&self, queue: &str, requestor: &str, subject: &str, content: &str) -> String {
        let answer = self
            .call(
                reqwest::Method::POST,
                "ticket",
                Some(json!({ "Queue": queue, "Requestor": requestor, "Subject": subject, "Content": content })),
            )
            .await;
        answer["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| answer["id"].to_string())
    }

    /// Moves ticket `id` to `queue`, as a person in RT would.
    pub async fn move_ticket(&self, id: &str, queue: &str) {
        self.call(
            reqwest::Method::PUT,
            &format!("ticket/{id}"),
            Some(json!({ "Queue": queue })),
        )
        .await;
    }

    /// Ticket `id`: queue name, priority, custom fields (name -> first value).
    pub async fn ticket(&self, id: &str) -> RtView {
        let query = format!("tickets?query=id%3D{id}&fields=Queue,Priority,CustomFields&fields%5BQueue%5D=Name");
        let answer = self.call(reqwest::Method::GET, &query, None).await;
        let item = &answer["items"][0];
        let fields = item["CustomFields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|f| {
                let value = f["values"].as_array()?.first()?.as_str()?.to_owned();
                Some((f["name"].as_str()?.to_owned(), value))
            })
            .collect();
        RtView {
            queue: item["Queue"]["Name"].as_str().unwrap_or_default().to_owned(),
            priority: item["Priority"].as_str().unwrap_or_default().to_owned(),
            fields,
        }
    }

    /// The contents of ticket `id`'s comments, oldest first.
    pub async fn comments(&self, id: &str) -> Vec<String> {
        let history = self
            .call(
                reqwest::Method::GET,
                &format!("ticket/{id}/history?fields=Type&per_page=100"),
                None,
            )
            .await;
        let mut comments = Vec::new();
        for transaction in history["items"].as_array().cloned().unwrap_or_default() {
            if transaction["Type"].as_str() != Some("Comment") {
                continue;
            }
            let tid = transaction["id"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| transaction["id"].to_string());
            let parts = self
                .call(
                    reqwest::Method::GET,
                    &format!("transaction/{tid}/attachments?fields=Content,ContentType"),
                    None,
                )
                .await;
            let text: Vec<String> = parts["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|p| p["Content"].as_str().map(str::to_owned))
                .collect();
            comments.push(text.join("\n"));
        }
        comments
    }
}

/// What a test reads of an RT ticket.
#[derive(Debug, Clone)]
pub struct RtView {
    /// The queue's name.
    pub queue: String,
    /// The priority as RT answers it (a number).
    pub priority: String,
    /// Custom field name -> value.
    pub fields: std::collections::BTreeMap<String, String>,
}

impl Drop for TestRt {
    fn drop(&mut self) {
        // The group is the server's own (process_group(0)): its pid is the group id.
        let group = format!("-{}", self.child.id());
        let quiet = |signal: &str| {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        quiet("-TERM");
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        quiet("-KILL");
        let _ = self.child.wait();
    }
}
