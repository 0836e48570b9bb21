//! Property tests of line masking (token rules and neighbour rules together), with a small
//! deterministic generator instead of a property-testing dependency: masking never panics on
//! any input, and masking a masked line changes nothing (idempotence).

use super::line::LineTokens;
use crate::intern::Interner;

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Made-up fragments covering every rule's shapes and their near misses.
const FRAGMENTS: &[&str] = &[
    "user",
    "User",
    "jdoe",
    "svc-backup",
    "for",
    "from",
    "KB",
    "MB",
    "ms",
    "B",
    "seconds",
    "5",
    "-12",
    "+3",
    "3.5",
    "0x1f",
    "blk_",
    "blk_-",
    "node",
    "a.b",
    "app.example.com",
    "db-01.internal",
    "cache.local",
    "host.example.org:8443",
    "localhost:80",
    "Main.java:42",
    "com.example.app/.ui.Home",
    "org.example.Foo$Bar",
    "java.lang.Error:",
    "https://",
    "ftp://",
    "svc.tcp://",
    "files.example.net/a/b?x=1",
    "ops@example.com",
    "a@b",
    "@",
    "C:\\",
    "D:\\tmp\\",
    "\\\\srv\\share\\x",
    "/var/log/",
    "/a//b",
    "/",
    "aa:bb:cc:dd:ee:ff",
    "fe80::1",
    "::",
    ":",
    "::1",
    "12:34:56",
    "2024-01-02",
    "10.0.0.1",
    "1.2.3.4:5",
    "name=",
    "host=",
    "uid=",
    "=",
    "tool.exe",
    "lib.dll",
    "true",
    "null",
    "Jun",
    "Mon",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "..",
    "-",
    "+",
    "_",
    "\"",
    "'",
    "<*>",
    "<*>:<*>",
    "µs",
    "é",
    "日本",
    "\t",
    "%",
    "#",
    "$",
    "&",
    "12345678-1234-1234-1234-123456789012",
];

fn masked_line(content: &str) -> String {
    let interner = Interner::new();
    let mut lt = LineTokens::default();
    lt.fill(content, &interner, 256, 256);
    (0..lt.ids.len())
        .map(|i| lt.text(i, content))
        .collect::<Vec<_>>()
        .join(" ")
}

fn random_line(rng: &mut Rng) -> String {
    let tokens = 1 + rng.below(12);
    let mut line = String::new();
    for _ in 0..tokens {
        let glued = 1 + rng.below(3);
        for _ in 0..glued {
            line.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
        line.push(' ');
    }
    line
}

#[test]
fn masking_is_idempotent_on_generated_lines() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..30_000 {
        let line = random_line(&mut rng);
        let once = masked_line(&line);
        let twice = masked_line(&once);
        assert_eq!(twice, once, "line {line:?}");
    }
}

#[test]
fn masking_never_panics_on_random_bytes() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..30_000 {
        let len = rng.below(80);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() >> 11) as u8).collect();
        let line = String::from_utf8_lossy(&bytes);
        let once = masked_line(&line);
        assert_eq!(masked_line(&once), once, "bytes {bytes:?}");
    }
}
