//! What a new user meets in the first hour, held to what it should be: the
//! CLI gives up at once on what no retry can change and says how to go on
//! when something can, and the gateway says what it is and what is wrong in
//! words that work.

mod common;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::proxy::Rules;
use common::{Gateway, binary, curl_status, random_file, scratch_dir};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn upload(args: &[&str], state: &std::path::Path) -> Output {
    binary().arg("upload").args(args).env("PRESIGN_GATEWAY_STATE_DIR", state).output().unwrap()
}

#[test]
fn a_url_without_a_scheme_is_refused_at_once() {
    let dir = scratch_dir("no-scheme");
    let file = dir.join("f");
    random_file(&file, 10, 1);
    for url in ["localhost:3000/x.bin", "127.0.0.1:3000/x.bin", "files.example/x"] {
        let output = upload(&[file.to_str().unwrap(), url], &dir);
        assert_eq!(output.status.code(), Some(2), "{url}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(message.contains("is not a gateway URL") && message.contains("such as http"), "{message}");
        assert!(!message.contains("retry") && !message.contains("trying again"), "{message}");
    }
}

#[test]
fn refusals_that_cannot_change_are_not_retried_nor_offered_a_resume() {
    let gateway = Gateway::start("lost-cause", &["--max-object-size", "12MiB"]);
    let dir = scratch_dir("lost-cause-files");
    let state = dir.join("state");
    let file = dir.join("big");
    random_file(&file, 16 << 20, 2);
    let output = upload(&[file.to_str().unwrap(), &gateway.at("big.bin"), "--part-size", "5MiB"], &state);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("413"), "{message}");
    assert!(!message.contains("--resume"), "resuming cannot help: {message}");
    assert!(!message.contains("trying again"), "a 413 is not retried: {message}");
    let left: Vec<_> = std::fs::read_dir(&state).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "the state of an upload given up is removed: {left:?}");
    assert!(gateway.server.logged("AbortMultipartUpload", Duration::from_secs(10)), "not aborted: {}", gateway.logs());

    // A 401 tells a CLI user how the CLI sends a token.
    let locked = Gateway::start("lost-cause-jwt", &["--auth", "jwt", "--jwt-secret", &"s".repeat(32)]);
    let output = upload(&[file.to_str().unwrap(), &locked.at("x.bin")], &state);
    let message = stderr(&output);
    assert!(
        message.contains("401") && message.contains("--token") && message.contains("PRESIGN_GATEWAY_TOKEN"),
        "{message}"
    );
    assert!(!message.contains("trying again"), "{message}");

    // A missing object says so without a dangling colon.
    let output =
        binary().args(["download", &gateway.at("none.bin"), dir.join("none").to_str().unwrap()]).output().unwrap();
    let message = stderr(&output);
    assert!(message.contains("NoSuchKey") && !message.contains("NoSuchKey: \n"), "{message:?}");
}

#[test]
fn retries_are_told_to_a_person() {
    let rules = Rules { fail_once: Some("partNumber=2&".into()), ..Rules::default() };
    let (gateway, _proxy) = Gateway::behind_a_storage_proxy("people", &rules);
    let dir = scratch_dir("people-files");
    let file = dir.join("f");
    random_file(&file, 12 << 20, 3);
    let output = upload(&[file.to_str().unwrap(), &gateway.at("r.bin"), "--part-size", "5MiB"], &dir);
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    // The proxy answers 503 without reading the part, so the client sees the 503 or a broken pipe.
    assert!(message.contains("presign-gateway: warning: part 2 failed ("), "{message}");
    assert!(message.contains("trying again in"), "{message}");
    assert!(!message.contains("presign_gateway::") && !message.contains(" WARN "), "{message}");
}

#[test]
fn ctrl_c_says_how_to_resume() {
    let rules = Rules { delay: Duration::from_millis(500), ..Rules::default() };
    let (gateway, proxy) = Gateway::behind_a_storage_proxy("ctrl-c", &rules);
    let dir = scratch_dir("ctrl-c-files");
    let file = dir.join("f");
    random_file(&file, 30 << 20, 4);
    let child = binary()
        .args(["upload", file.to_str().unwrap(), &gateway.at("c.bin"), "--part-size", "5MiB", "--concurrency", "1"])
        .env("PRESIGN_GATEWAY_STATE_DIR", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.requests("partNumber=").is_empty() {
        assert!(Instant::now() < deadline, "no part was sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let message = stderr(&output);
    assert!(message.contains("interrupted") && message.contains("--resume"), "{message}");
    assert!(message.contains(&dir.display().to_string()), "the state's place is named: {message}");
}

#[test]
fn a_host_name_is_listened_on() {
    let mut command = binary();
    let data = scratch_dir("localhost").join("data");
    command.args(["serve", "--listen", "localhost:0", "--data-dir"]).arg(&data);
    let server = common::Server::spawn(command, "presign-gateway listening on ");
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let (status, _) = curl_status(&["-o", "/dev/null", &format!("http://localhost:{port}/a.txt")]);
    assert_eq!(status, 307);
}

#[test]
fn the_store_listens_on_every_address_of_a_host_name_too() {
    let mut resolved: Vec<SocketAddr> = ("localhost", 0).to_socket_addrs().unwrap().collect();
    resolved.sort_by_key(SocketAddr::is_ipv6);
    resolved.dedup();
    if resolved.iter().any(SocketAddr::is_ipv6) && TcpListener::bind("[::1]:0").is_err() {
        println!("skipped: localhost resolves to an IPv6 address this machine cannot listen on");
        return;
    }
    if !resolved.iter().any(SocketAddr::is_ipv6) {
        println!("skipped the IPv6 half: localhost resolves to IPv4 only here ({resolved:?})");
    }
    let store = common::Store::start_in(scratch_dir("store-localhost").join("data"), &["--listen", "localhost:0"]);
    let port: u16 = store.url.rsplit(':').next().unwrap().parse().unwrap();
    // The banner names the first address, IPv4 before IPv6; every address answers on its port.
    assert_eq!(store.url, format!("http://{}", SocketAddr::new(resolved[0].ip(), port)));
    for address in &resolved {
        let url = format!("http://{}/presign-gateway/a.txt", SocketAddr::new(address.ip(), port));
        let (status, body) = curl_status(&["--globoff", &url]);
        assert_eq!(status, 403, "{url}: {body}");
    }
}

#[test]
fn the_banner_says_how_to_use_this_gateway() {
    let output = |args: &[&str]| {
        let mut command = binary();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(scratch_dir("banner").join("data"))
            .args(args);
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut banner = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        for _ in 0..7 {
            std::io::BufRead::read_line(&mut stdout, &mut banner).unwrap();
        }
        let _ = child.kill();
        let _ = child.wait();
        banner
    };
    let plain = output(&[]);
    assert!(plain.contains("auth: none") && plain.contains("share links: off"), "{plain}");
    assert!(
        plain.contains("\n  catalog: redb file ") && plain.contains("state.redb; renditions: thumb=320x320"),
        "{plain}"
    );
    let jwt =
        output(&["--auth", "jwt", "--jwt-secret", &"s".repeat(32), "--share-keys", &format!("k1:{}", "k".repeat(32))]);
    assert!(jwt.contains("auth: jwt") && jwt.contains("share links: on"), "{jwt}");
    assert!(jwt.contains("curl -L -H \"Authorization: Bearer $TOKEN\" --upload-file"), "{jwt}");
}

/// The banner's upload and download lines, pasted as printed into a shell in
/// an empty folder (no `hello.txt` there), store a file and read it back.
#[test]
fn the_banners_commands_work_as_pasted() {
    let mut command = binary();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(scratch_dir("banner-pasted").join("data"));
    let (_server, banner): (common::Server, _) =
        common::Server::spawn_until(command, "presign-gateway listening on ", "  download:");
    let line = |label: &str| {
        banner.iter().find_map(|line| line.strip_prefix(label)).unwrap_or_else(|| panic!("{banner:?}")).to_owned()
    };
    let empty = scratch_dir("banner-pasted-shell");
    let run = |line: &str| {
        let output = Command::new("bash").args(["-euo", "pipefail", "-c", line]).current_dir(&empty).output().unwrap();
        assert!(output.status.success(), "{line}: {}", stderr(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    run(&line("  upload:   "));
    assert_eq!(run(&line("  download: ")).trim(), "hello", "{banner:?}");
}

#[test]
fn settings_say_what_is_wrong_once() {
    let run = |args: &[&str]| binary().args(args).env_remove("SHARE_KEYS").output().unwrap();
    for (args, reason) in [
        (&["serve", "--share-keys", "k1:short"][..], "shorter than 32 bytes"),
        (&["serve", "--share-keys", "nokid"][..], "is not kid:secret"),
    ] {
        let message = stderr(&run(args));
        assert_eq!(message.matches(reason).count(), 1, "{message}");
    }
    let message = stderr(&run(&["share", "x", "--ttl", "1h", "--base-url", "http://h"]));
    assert!(message.contains("--share-keys") && message.contains("SHARE_KEYS"), "{message}");
}

/// A link asked for where sharing is off: the caller (a page's visitor as
/// much as a curl user) is told so in plain words; the log says what turns it on.
#[test]
fn sharing_off_is_told_plainly_and_explained_in_the_log() {
    let gateway = Gateway::start("sharing-off", &[]);
    let (status, body) = curl_status(&["-X", "POST", &gateway.at("notes.txt?share&ttl=1h")]);
    assert_eq!((status, body.trim()), (403, "sharing is not turned on for this site"));
    common::wait_until("the log names --share-keys", || {
        gateway.logs().contains("--share-keys / SHARE_KEYS is not set")
    });
}
