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
