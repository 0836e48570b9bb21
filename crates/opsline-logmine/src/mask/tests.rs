//! Unit tests of the token masking rules (made-up lines, not copied from reference data).

use super::*;

fn mask(t: &str) -> String {
    let mut out = String::new();
    match mask_token(t, 256, &mut out) {
        Masked::Unchanged => t.to_string(),
        Masked::Wildcard => WILDCARD.to_string(),
        Masked::Rewritten => out,
    }
}

#[test]
fn masks_numbers_hex_ips_uuids() {
    assert_eq!(mask("1702"), "<*>");
    assert_eq!(mask("0x1f"), "<*>");
    assert_eq!(mask("10.251.73.220"), "<*>");
    assert_eq!(mask("10.251.73.220:50010"), "<*>:<*>");
    assert_eq!(mask("38101a0b-2096-447d-96ea-a692162415ae"), "<*>");
    assert_eq!(mask("blk_-6952295868487656571"), "<*>");
    assert_eq!(mask("blk_38865049064139660"), "<*>");
    assert_eq!(mask("15ms"), "<*>");
    assert_eq!(mask("v6.1.7601.23505"), "<*>");
    assert_eq!(mask("17:41:44,747"), "<*>:<*>:<*>,<*>");
    assert_eq!(mask("2005-06-03-15.42.50.675872"), "<*>");
    assert_eq!(mask("-1"), "<*>");
    assert_eq!(mask("1..2"), "<*>..<*>");
    assert_eq!(mask("1.2."), "<*>.");
    assert_eq!(mask("10.0.0.1"), "<*>");
    assert_eq!(mask("(12)"), "(<*>)");
    assert_eq!(mask("12345678-1234-1234-1234-123456789012:8"), "<*>:<*>");
}

#[test]
fn keeps_keys_and_plain_words() {
    assert_eq!(mask("uid=0"), "uid=<*>");
    assert_eq!(mask("(HWID=1973)"), "(HWID=<*>)");
    assert_eq!(mask("terminating"), "terminating");
    assert_eq!(mask("dfs.DataNode$PacketResponder:"), "dfs.DataNode$PacketResponder:");
}

#[test]
fn masks_paths_and_literals() {
    assert_eq!(mask("/etc/httpd/conf/workers2.properties"), "<*>");
    assert_eq!(mask("/10.10.34.11:45307"), "<*>:<*>");
    assert_eq!(mask("allDrawn=false,"), "allDrawn=<*>,");
    assert_eq!(mask("null"), "<*>");
}

#[test]
fn masking_is_independent_of_previous_tokens() {
    let mut out = String::from("earlier:<*>");
    assert_eq!(mask_token("0", 256, &mut out), Masked::Wildcard);
    assert_eq!(mask_token("x=1", 256, &mut out), Masked::Rewritten);
    assert_eq!(&out[11..], "x=<*>");
}

#[test]
fn fast_paths_agree_with_the_general_path() {
    const ALPHABET: &[u8] = b"0123456789abfxyzTR.-+:,=/_@#()[]<*>";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = 1 + (seed % 20) as usize;
        let token: String = (0..len)
            .map(|i| char::from(ALPHABET[((seed >> (i * 3)) as usize + i * 7) % ALPHABET.len()]))
            .collect();
        let fast = mask(&token);
        let mut out = String::new();
        let class = token.bytes().fold(0, |c, b| c | byte_class(b));
        let general = match mask_pieces(&token, class, &mut out) {
            Masked::Unchanged => token.clone(),
            Masked::Wildcard => WILDCARD.to_string(),
            Masked::Rewritten => out,
        };
        assert_eq!(fast, general, "token {token:?}");
    }
}

#[test]
fn long_tokens_are_variables() {
    let long = "a".repeat(300);
    assert_eq!(mask(&long), "<*>");
}

// One test per rule of the one default configuration, on made-up tokens.

#[test]
fn signed_numbers_are_one_variable() {
    assert_eq!(mask("-42"), "<*>");
    assert_eq!(mask("+7"), "<*>");
    assert_eq!(mask("offset=-3"), "offset=<*>");
    assert_eq!(mask("(-1,"), "(<*>,");
    assert_eq!(mask("chunk_-77"), "<*>");
    assert_eq!(mask("+2s500ms"), "<*>");
    // A hyphen between words or after a digit is not a sign.
    assert_eq!(mask("rack-12"), "rack-<*>");
    assert_eq!(mask("2021-03-04"), "<*>");
    assert_eq!(mask("-->"), "-->");
}

#[test]
fn host_names_and_fqdns() {
    assert_eq!(mask("cache-7.eu-west.example.net"), "<*>");
    assert_eq!(mask("build.internal"), "<*>");
    assert_eq!(mask("intranet.example.com,"), "<*>,");
    assert_eq!(mask("'db.prod.lan'"), "'<*>'");
    assert_eq!(mask("host=mail.example.org"), "host=<*>");
    // Two-label words that are not host names stay.
    assert_eq!(mask("config.yaml"), "config.yaml");
    assert_eq!(mask("Intent.ACTION_MAIN"), "Intent.ACTION_MAIN");
}

#[test]
fn host_and_port() {
    assert_eq!(mask("relay.example.com:2525"), "<*>:<*>");
    assert_eq!(mask("gw.corp:8443"), "<*>:<*>");
    assert_eq!(mask("[api.example.io:443]"), "[<*>:<*>]");
    assert_eq!(mask("10.1.2.3:80"), "<*>:<*>");
    // A source file and line is not a host.
    assert_eq!(mask("Worker.java:118"), "Worker.java:<*>");
    // A single word before a number is a key.
    assert_eq!(mask("retries:3"), "retries:<*>");
}

#[test]
fn dotted_package_and_class_names() {
    assert_eq!(mask("org.example.queue.Consumer"), "<*>");
    assert_eq!(mask("io.acme.Broken$Inner"), "<*>$Inner");
    assert_eq!(mask("net.acme.Session@1f2e3d"), "<*>@<*>");
    assert_eq!(mask("org.acme.TimeoutError:"), "<*>:");
    assert_eq!(mask("cmp=org.acme.mail/.ui.Inbox"), "cmp=<*>");
    assert_eq!(mask("com.acme.app:sync"), "<*>:sync");
}

#[test]
fn urls_keep_their_scheme() {
    assert_eq!(mask("https://status.example.com/v1/health?x=1"), "https://<*>");
    assert_eq!(mask("s3://bucket/key/part-0001"), "s3://<*>");
    assert_eq!(mask("[grpc.tls://node@10.0.0.9:7000],"), "[grpc.tls://<*>],");
    assert_eq!(mask("url=http://a.example/x"), "url=http://<*>");
    assert_eq!(mask("http://"), "http://");
}

#[test]
fn email_addresses() {
    assert_eq!(mask("ops-team@example.com"), "<*>");
    assert_eq!(mask("(jane.doe@mail.example.org)"), "(<*>)");
    assert_eq!(mask("to=alerts@corp.example"), "to=<*>");
    // An object id after `@` is not a domain.
    assert_eq!(mask("Handler@7a3f"), "Handler@<*>");
}

#[test]
fn file_paths() {
    assert_eq!(mask("/srv/app/releases/"), "<*>");
    assert_eq!(mask("path=/tmp/upload.tmp"), "path=<*>");
    assert_eq!(mask("C:\\ProgramData\\Agent\\agent.log"), "<*>");
    assert_eq!(mask("'D:\\backups\\'."), "'<*>'.");
    assert_eq!(mask("\\\\fileserver\\share\\report.xlsx"), "<*>");
    assert_eq!(mask("and/or"), "and/or");
}

#[test]
fn mac_and_ipv6_addresses() {
    assert_eq!(mask("3c:22:fb:0a:1e:9d"), "<*>");
    assert_eq!(mask("mac=AA:BB:CC:DD:EE:FF"), "mac=<*>");
    assert_eq!(mask("00:1b:44:11:3a:b7,"), "<*>,");
    assert_eq!(mask("fe80::1c2d:3e4f"), "<*>");
    assert_eq!(mask("[2001:db8:0:0:0:0:2:1]:443"), "[<*>]:<*>");
    // Times and key:value pairs are not addresses.
    assert_eq!(mask("12:30:45"), "<*>:<*>:<*>");
    assert_eq!(mask("state:ready"), "state:ready");
}

#[test]
fn process_and_object_names() {
    assert_eq!(mask("backup.exe"), "<*>");
    assert_eq!(mask("Agent.EXE:"), "<*>:");
    assert_eq!(mask("name=indexer"), "name=<*>");
    assert_eq!(mask("process=\"sync-worker\","), "process=\"<*>\",");
    assert_eq!(mask("comm=cron"), "comm=<*>");
    // Other keys keep their values; an empty value stays empty.
    assert_eq!(mask("state=ready"), "state=ready");
    assert_eq!(mask("name="), "name=");
}

#[test]
fn versions_durations_and_sizes() {
    assert_eq!(mask("v2.14.1-rc3"), "<*>");
    assert_eq!(mask("1.0.0-beta.2"), "<*>");
    assert_eq!(mask("250ms"), "<*>");
    assert_eq!(mask("1h30m"), "<*>");
    assert_eq!(mask("512MiB"), "<*>");
    assert_eq!(mask("(3.5GB)"), "(<*>)");
}
