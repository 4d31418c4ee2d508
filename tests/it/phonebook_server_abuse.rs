//! The phone-book server under abuse: idle and half-sent connections do not lock it up, and
//! many parallel requests for a large book cost one render and bounded memory.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Stop, Synced, serve};

fn address(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .expect("the server's peak memory (VmHWM)")
}

#[test]
fn idle_and_half_sent_connections_neither_block_others_nor_stay() {
    let s = Synced::start(20, 50);
    s.sync_ok(&[]);
    let (child, url) = serve(&s, &["--header-timeout", "1"], None);
    let _stop = Stop(child);
    let addr = address(&url);
    // Connections that send nothing, and ones that stop half-way through their headers: more
    // than the server keeps open (512), so a new client must make an idle one give way.
    let mut idle: Vec<TcpStream> = (0..600)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    for stream in idle.iter_mut().take(100) {
        stream
            .write_all(b"GET /snom.xml HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .expect("half a header");
    }
    // Someone else is answered meanwhile.
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let answer = client
        .get(format!("{url}/snom.xml"))
        .send()
        .expect("an answer while 600 connections idle");
    assert_eq!(answer.status().as_u16(), 200);
    // The idle ones are closed by the server: each read ends (EOF or reset), none hangs.
    for stream in idle.iter_mut().step_by(50) {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut buffer = [0u8; 256];
        let ended = match stream.read(&mut buffer) {
            Ok(0) => true,
            Ok(_) => true, // an error answer (408), then the close
            Err(e) => {
                e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut
            }
        };
        assert!(ended, "an idle connection was kept open");
    }
}

#[test]
fn parallel_requests_for_a_book_share_one_render() {
    let s = Synced::start(20, 4000);
    s.sync_ok(&[]);
    // Its renders are logged at -v: the count is the test's oracle.
    let log = s.home.path().join("server.log");
    let mut child = s
        .std_cmd(&["serve-phonebook", "--listen", "127.0.0.1:0", "-v"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("serve");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("listening line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address")
        .to_string();
    let pid = child.id();
    let _stop = Stop(child);
    let baseline = peak_rss_kib(pid);
    let bodies: Vec<Vec<u8>> = std::thread::scope(|threads| {
        let handles: Vec<_> = (0..60)
            .map(|_| {
                let url = url.clone();
                threads.spawn(move || {
                    reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(120))
                        .build()
                        .expect("client")
                        .get(format!("{url}/contacts.vcf"))
                        .send()
                        .and_then(|r| r.bytes())
                        .expect("cards")
                        .to_vec()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(bodies.iter().all(|b| b == &bodies[0] && !b.is_empty()));
    let peak = peak_rss_kib(pid);
    let card_book_kib = bodies[0].len() as u64 / 1024;
    eprintln!(
        "server: baseline {baseline} KiB, peak {peak} KiB after 60 parallel requests for {card_book_kib} KiB of vCards"
    );
    let renders = std::fs::read_to_string(&log)
        .expect("log")
        .matches("rendered a book")
        .count();
    assert_eq!(renders, 1, "60 parallel requests, one render");
    // Sixty separate renders of the book would hold sixty copies at once.
    assert!(
        peak < baseline + 12 * card_book_kib + 64 * 1024,
        "peak {peak} KiB for a {card_book_kib} KiB book"
    );
}
