//! `keyward pre-receive` behind real servers on 127.0.0.1: `git daemon
//! --enable=receive-pack`, and smart HTTP (`git http-backend` under fcgiwrap
//! behind nginx), each started on a free port by the test and stopped by a Drop
//! guard however the test ends. Every case of `server` runs against each, plus
//! ten concurrent pushes and a push of 10,000 commits. Heavy (they need nginx and
//! fcgiwrap, which .ci/run installs, and minutes): `cargo test --release --
//! --ignored`.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::{rejected, write_executable, Server, CASES};
use crate::util::key;

/// A server process group, killed and reaped on drop.
struct Running {
    child: Child,
    name: &'static str,
}

impl Drop for Running {
    fn drop(&mut self) {
        // The whole group: git daemon's and nginx's children, fcgiwrap's CGIs.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn start(mut command: Command, name: &'static str) -> Running {
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running { child, name }
    }

    fn wait_for_port(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited before listening: {status}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} is not listening on 127.0.0.1:{port}", self.name);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn git_daemon(s: &Server) -> (Running, String) {
    let port = free_port();
    let base = s.bare.parent().unwrap();
    let mut c = s.client.command_in(base, "git");
    c.args([
        "daemon",
        "--reuseaddr",
        "--listen=127.0.0.1",
        &format!("--port={port}"),
        &format!("--base-path={}", base.display()),
        "--export-all",
        "--enable=receive-pack",
        "--informative-errors",
    ]);
    let mut daemon = Running::start(c, "git daemon");
    daemon.wait_for_port(port);
    (daemon, format!("git://127.0.0.1:{port}/srv.git"))
}

/// Where Debian's packages put them; .ci/run installs them.
const NGINX: &str = "/usr/sbin/nginx";
const FCGIWRAP: &str = "/usr/sbin/fcgiwrap";
const HTTP_BACKEND: &str = "/usr/lib/git-core/git-http-backend";

/// The identity the HTTP server hands git (as a login would): the audit names it.
pub const HTTP_USER: &str = "http-pusher";

fn smart_http(s: &Server) -> (Running, Running, String) {
    for need in [NGINX, FCGIWRAP, HTTP_BACKEND] {
        assert!(
            Path::new(need).exists(),
            "{need} is missing: apt-get install nginx fcgiwrap (.ci/run does)"
        );
    }
    let dir: PathBuf = s.client.scratch("http");
    let socket = dir.join("fcgi.sock");
    let _ = std::fs::remove_file(&socket);
    let mut c = s.client.command_in(&dir, FCGIWRAP);
    c.args(["-c", "4", "-s", &format!("unix:{}", socket.display())]);
    let fcgi = Running::start(c, "fcgiwrap");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "fcgiwrap made no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let port = free_port();
    let root = s.bare.parent().unwrap();
    let home = s.client.scratch("http-home");
    let conf = format!(
        r#"worker_processes 2;
user root;
pid {dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    fastcgi_temp_path {dir}/fastcgi;
    proxy_temp_path {dir}/proxy;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{
            include /etc/nginx/fastcgi_params;
            fastcgi_pass unix:{socket};
            fastcgi_param SCRIPT_FILENAME {HTTP_BACKEND};
            fastcgi_param GIT_PROJECT_ROOT {root};
            fastcgi_param GIT_HTTP_EXPORT_ALL "";
            fastcgi_param PATH_INFO $uri;
            fastcgi_param REMOTE_USER {HTTP_USER};
            fastcgi_param HOME {home};
            fastcgi_param PATH /usr/local/bin:/usr/bin:/bin;
            fastcgi_param GIT_CONFIG_NOSYSTEM 1;
        }}
    }}
}}
"#,
        dir = dir.display(),
        socket = socket.display(),
        root = root.display(),
        home = home.display(),
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut c = s.client.command_in(&dir, NGINX);
    c.args([
        "-p",
        dir.to_str().unwrap(),
        "-c",
        dir.join("nginx.conf").to_str().unwrap(),
        "-e",
        dir.join("error.log").to_str().unwrap(),
        "-g",
        "daemon off;",
    ]);
    let mut nginx = Running::start(c, "nginx");
    nginx.wait_for_port(port);
    (fcgi, nginx, format!("http://127.0.0.1:{port}/srv.git"))
}

fn every_case(s: &Server, url: &str) {
    for (name, case) in CASES {
        eprintln!("case: {name} over {url}");
        case(s, url);
    }
    ten_concurrent_pushes(s, url);
    ten_thousand_commits(s, url);
}

#[test]
#[ignore = "heavy: run with --ignored"]
fn over_file_url() {
    let s = Server::new();
    every_case(&s, &s.url());
}

#[test]
#[ignore = "heavy: run with --ignored"]
fn over_git_daemon() {
    let s = Server::new();
    let (_daemon, url) = git_daemon(&s);
    every_case(&s, &url);
}

#[test]
#[ignore = "heavy: run with --ignored (needs nginx and fcgiwrap)"]
fn over_smart_http() {
    let s = Server::new();
    let (_fcgi, _nginx, url) = smart_http(&s);
    every_case(&s, &url);
}

/// Ten pushes at once, to ten branches; every other one holds a key. Each is
/// judged on its own: the keyed ones rejected, the clean ones through.
fn ten_concurrent_pushes(s: &Server, url: &str) {
    s.set_policy("");
    let mut expected = Vec::new();
    for i in 0..10 {
        let branch = format!("concurrent-{i}");
        s.branch(&branch);
        let secret = (i % 2 == 0).then(|| key("sk_live_", 99));
        let text = match &secret {
            Some(k) => format!("key {k}\n"),
            None => format!("clean {i}\n"),
        };
        let commit = s.commit_file(&format!("c{i}.txt"), &text, &format!("c{i}"));
        expected.push((branch, commit, secret));
    }
    let runs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = expected
            .iter()
            .map(|(branch, _, _)| scope.spawn(move || s.push(url, &[branch.as_str()])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (run, (branch, commit, secret)) in runs.into_iter().zip(&expected) {
        let on_server = s.server_ref(&format!("refs/heads/{branch}"));
        match secret {
            Some(k) => {
                let i = &branch["concurrent-".len()..];
                rejected(run, k, &format!("c{i}.txt:1:5"));
                assert_eq!(on_server, None, "{branch}");
                assert!(!s.has_object(commit));
            }
            None => {
                run.ok().lacks("keyward");
                assert_eq!(on_server.as_ref(), Some(commit), "{branch}");
            }
        }
    }
}

/// 10,000 new commits in one push: a key in one of them is found and named;
/// the same history without it goes through.
fn ten_thousand_commits(s: &Server, url: &str) {
    s.set_policy("");
    let secret = key("sk_live_", 99);
    let main = s.client.git(&["rev-parse", "main"]).stdout();
    for (branch, key_at) in [("big-keyed", Some(7_777)), ("big-clean", None)] {
        let mut stream = String::new();
        for i in 1..=10_000 {
            let content = if Some(i) == key_at {
                format!("commit {i} uses {secret}\n")
            } else {
                format!("commit {i}\n")
            };
            let message = format!("change {i}\n");
            stream.push_str(&format!("commit refs/heads/{branch}\n"));
            stream.push_str(&format!(
                "committer T <t@example.com> {} +0000\n",
                1_767_225_600 + i
            ));
            stream.push_str(&format!("data {}\n{message}", message.len()));
            if i == 1 {
                stream.push_str(&format!("from {}\n", main.trim()));
            }
            stream.push_str(&format!(
                "M 644 inline dir{}/f{}.txt\ndata {}\n{content}\n",
                i % 50,
                i % 1000,
                content.len()
            ));
        }
        let mut c = s.client.command_in(&s.client.root, "git");
        c.args(["fast-import", "--quiet", "--force"])
            .stdin(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stream.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "fast-import failed");
        let started = Instant::now();
        let run = s.push(url, &[branch]);
        eprintln!(
            "push of 10,000 commits ({branch}) over {url}: {:?}",
            started.elapsed()
        );
        let tip = s
            .client
            .git(&["rev-parse", branch])
            .stdout()
            .trim()
            .to_string();
        match key_at {
            Some(at) => {
                let keyed = s
                    .client
                    .git(&["rev-parse", &format!("{branch}~{}", 10_000 - at)])
                    .stdout();
                rejected(run, &secret, &format!("f{}.txt:1:", at % 1000))
                    .contains(&format!("added in commit {}", &keyed[..12]));
                assert_eq!(s.server_ref(&format!("refs/heads/{branch}")), None);
            }
            None => {
                run.ok();
                assert_eq!(s.server_ref(&format!("refs/heads/{branch}")), Some(tip));
            }
        }
    }
}

/// The chained hook under a real server: both hooks read the same ref lines.
#[test]
#[ignore = "heavy: run with --ignored"]
fn a_chained_hook_reads_the_ref_lines_over_git_daemon() {
    let s = Server::new();
    let seen = s.admin_dir().join("seen");
    let hook = s.bare.join("hooks/pre-receive");
    std::fs::rename(&hook, s.bare.join("hooks/keep")).unwrap();
    write_executable(&hook, &format!("#!/bin/sh\ncat >> '{}'\n", seen.display()));
    s.install()
        .ok()
        .contains("kept the existing pre-receive hook");
    let (_daemon, url) = git_daemon(&s);
    s.branch("chain");
    let commit = s.commit_file("ok.txt", "ok\n", "ok");
    s.push(&url, &["chain"]).ok();
    let text = std::fs::read_to_string(&seen).unwrap();
    assert!(
        text.contains(&format!("{commit} refs/heads/chain")),
        "{text}"
    );
}
