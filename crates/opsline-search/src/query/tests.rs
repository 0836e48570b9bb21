//! Parser unit tests.

use std::ops::Bound;

use super::*;

fn text(t: &str) -> QueryNode {
    QueryNode::Text {
        target: TextTarget::Default,
        text: t.to_string(),
        phrase: false,
    }
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn empty_query_matches_all() {
    assert_eq!(parse("").unwrap(), QueryNode::MatchAll);
    assert_eq!(parse("   ").unwrap(), QueryNode::MatchAll);
}

#[test]
fn juxtaposed_terms_are_optional() {
    assert_eq!(
        parse("dns outage").unwrap(),
        QueryNode::Bool(vec![
            (ClauseOccur::Should, text("dns")),
            (ClauseOccur::Should, text("outage"))
        ])
    );
}

#[test]
fn phrases_and_prefix_operators() {
    assert_eq!(
        parse("+\"certificate expired\" -staging").unwrap(),
        QueryNode::Bool(vec![
            (
                ClauseOccur::Must,
                QueryNode::Text {
                    target: TextTarget::Default,
                    text: "certificate expired".into(),
                    phrase: true
                }
            ),
            (ClauseOccur::MustNot, text("staging")),
        ])
    );
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        parse("a AND b OR c").unwrap(),
        QueryNode::Bool(vec![
            (
                ClauseOccur::Should,
                QueryNode::Bool(vec![(ClauseOccur::Must, text("a")), (ClauseOccur::Must, text("b"))])
            ),
            (ClauseOccur::Should, text("c")),
        ])
    );
    assert_eq!(
        parse("a AND NOT b").unwrap(),
        QueryNode::Bool(vec![(ClauseOccur::Must, text("a")), (ClauseOccur::MustNot, text("b"))])
    );
}

#[test]
fn lower_case_operators_are_words() {
    assert_eq!(
        parse("and or").unwrap(),
        QueryNode::Bool(vec![
            (ClauseOccur::Should, text("and")),
            (ClauseOccur::Should, text("or"))
        ])
    );
}

#[test]
fn filters_are_required_unless_ored() {
    let parsed = parse("dns Service:Payments tag:\"Network Edge\"").unwrap();
    assert_eq!(
        parsed,
        QueryNode::Bool(vec![
            (ClauseOccur::Should, text("dns")),
            (
                ClauseOccur::Must,
                QueryNode::Keyword {
                    field: KeywordField::Service,
                    value: "payments".into()
                }
            ),
            (
                ClauseOccur::Must,
                QueryNode::Keyword {
                    field: KeywordField::Tag,
                    value: "network edge".into()
                }
            ),
        ])
    );
    let ored = parse("severity:sev1 OR severity:sev2").unwrap();
    let QueryNode::Bool(clauses) = ored else {
        panic!("expected bool")
    };
    assert!(clauses.iter().all(|(occur, _)| *occur == ClauseOccur::Should));
}

#[test]
fn date_ranges_in_all_forms() {
    let range = |q: &str| match parse(q).unwrap() {
        QueryNode::DateRange { lower, upper, .. } => (lower, upper),
        other => panic!("not a range: {other:?}"),
    };
    assert_eq!(
        range("created:[2024-01-01 TO 2024-06-30]"),
        (
            Bound::Included(ts("2024-01-01T00:00:00Z")),
            Bound::Excluded(ts("2024-07-01T00:00:00Z"))
        )
    );
    assert_eq!(
        range("created:{2024-01-01 TO 2024-06-30}"),
        (
            Bound::Included(ts("2024-01-02T00:00:00Z")),
            Bound::Excluded(ts("2024-06-30T00:00:00Z"))
        )
    );
    assert_eq!(
        range("updated:[* TO 2024]"),
        (Bound::Unbounded, Bound::Excluded(ts("2025-01-01T00:00:00Z")))
    );
    assert_eq!(
        range("created:>=2024-03"),
        (Bound::Included(ts("2024-03-01T00:00:00Z")), Bound::Unbounded)
    );
    assert_eq!(
        range("created:<2024"),
        (Bound::Unbounded, Bound::Excluded(ts("2024-01-01T00:00:00Z")))
    );
    assert_eq!(
        range("created:2024-03"),
        (
            Bound::Included(ts("2024-03-01T00:00:00Z")),
            Bound::Excluded(ts("2024-04-01T00:00:00Z"))
        )
    );
}

#[test]
fn unknown_fields_are_errors_but_urls_and_quotes_are_text() {
    assert_eq!(parse("http://example.com/x").unwrap(), text("http://example.com/x"));
    assert_eq!(parse("foo:bar"), Err(QueryError::UnknownField("foo".into())));
    assert_eq!(
        parse("service:hdfs AND colour:red"),
        Err(QueryError::UnknownField("colour".into()))
    );
    assert!(parse("\"foo:bar\"").is_ok());
    assert!(parse("error: timeout").is_ok(), "a colon before a space is text");
}

#[test]
fn errors_are_typed() {
    assert_eq!(parse("service:"), Err(QueryError::MissingValue("service".into())));
    assert!(matches!(parse("created:[2024 2025]"), Err(QueryError::BadRange(_))));
    assert!(matches!(parse("created:yesterday"), Err(QueryError::BadDate(_))));
    assert_eq!(parse(&"(".repeat(40)), Err(QueryError::TooDeep));
    assert_eq!(parse(&"a ".repeat(3000)), Err(QueryError::TooLong));
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "(",
        ")",
        "\"",
        "+",
        "-",
        "!",
        "NOT",
        "AND",
        "OR",
        "a AND",
        "OR b",
        "((a)",
        "a))",
        "\"unterminated",
        "title:",
        "title:\"",
        "created:[",
        "created:[2024 TO",
        "created:{* TO *}",
        "+-+-a",
        "tag:)",
        "::::",
        "é:ü",
        "NOT NOT a",
        "- - -",
        "a && b || c",
        "id:\"\"",
        "created:>=",
        "(((((((((())))))))))",
    ];
    for input in inputs {
        let _ = parse(input);
    }
}
