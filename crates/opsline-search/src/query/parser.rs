//! Recursive-descent parser of the query language (see the [`crate::query`] module docs).
//!
//! The parser is total: every input either parses or yields a [`QueryError`]; unbalanced
//! parentheses and quotes are closed implicitly, and stray operators are ignored.

use std::ops::Bound;

use super::dates::{lower_bound, parse_period, upper_bound};
use super::{
    ClauseOccur, DateField, KeywordField, MAX_QUERY_CHARS, MAX_QUERY_DEPTH, QueryError, QueryNode, TextTarget,
};
use crate::document::normalize_keyword;

/// Parses a query string.
pub fn parse(input: &str) -> Result<QueryNode, QueryError> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let mut parser = Parser {
        chars: input.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let mut clauses = Vec::new();
    loop {
        let node = parser.parse_or()?;
        if !matches!(node, QueryNode::MatchAll) || clauses.is_empty() {
            clauses.push(node);
        }
        // A stray ')' at top level: skip it and keep going.
        if parser.eat(')') {
            continue;
        }
        break;
    }
    Ok(match clauses.len() {
        1 => clauses.pop().unwrap_or(QueryNode::MatchAll),
        _ => QueryNode::Bool(
            clauses
                .into_iter()
                .filter(|node| !matches!(node, QueryNode::MatchAll))
                .map(|node| (ClauseOccur::Should, node))
                .collect(),
        ),
    })
}

/// A prefix operator in front of a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    None,
    Must,
    MustNot,
}

/// One parsed unary clause: its prefix, the node, and whether it is a filter.
struct Clause {
    prefix: Prefix,
    node: QueryNode,
    is_filter: bool,
}

enum FieldKind {
    Text(TextTarget),
    Keyword(KeywordField),
    Date(DateField),
}

fn field_kind(name: &str) -> Option<FieldKind> {
    Some(match name.to_ascii_lowercase().as_str() {
        "title" => FieldKind::Text(TextTarget::Title),
        "body" | "text" => FieldKind::Text(TextTarget::Body),
        "id" => FieldKind::Keyword(KeywordField::Id),
        "kind" | "type" => FieldKind::Keyword(KeywordField::Kind),
        "service" => FieldKind::Keyword(KeywordField::Service),
        "severity" | "sev" => FieldKind::Keyword(KeywordField::Severity),
        "status" => FieldKind::Keyword(KeywordField::Status),
        "tag" | "tags" => FieldKind::Keyword(KeywordField::Tag),
        "team" => FieldKind::Keyword(KeywordField::Team),
        "created" => FieldKind::Date(DateField::Created),
        "updated" => FieldKind::Date(DateField::Updated),
        _ => return None,
    })
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

fn is_word_end(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')' || c == '"'
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes the upper-case operator `op` if it stands alone at the cursor.
    fn eat_operator(&mut self, op: &str) -> bool {
        self.skip_ws();
        let len = op.chars().count();
        let matches = self
            .chars
            .get(self.pos..self.pos + len)
            .is_some_and(|slice| slice.iter().copied().eq(op.chars()));
        let ends = self
            .chars
            .get(self.pos + len)
            .is_none_or(|&c| c.is_whitespace() || c == '(' || c == '"');
        if matches && ends {
            self.pos += len;
            true
        } else {
            false
        }
    }

    fn at_end_of_group(&mut self) -> bool {
        self.skip_ws();
        matches!(self.peek(), None | Some(')'))
    }

    /// `or_expr := and_expr ([OR] and_expr)*`
    fn parse_or(&mut self) -> Result<QueryNode, QueryError> {
        let mut clauses: Vec<Clause> = Vec::new();
        let mut explicit_or = false;
        while !self.at_end_of_group() {
            if self.eat_operator("OR") || self.eat_operator("||") {
                explicit_or = true;
                continue;
            }
            if self.eat_operator("AND") || self.eat_operator("&&") {
                // A dangling AND (e.g. at the start): ignore it.
                continue;
            }
            if let Some(clause) = self.parse_and()? {
                clauses.push(clause);
            }
        }
        let mut nodes: Vec<(ClauseOccur, QueryNode)> = clauses
            .into_iter()
            .map(|clause| {
                let occur = match clause.prefix {
                    Prefix::Must => ClauseOccur::Must,
                    Prefix::MustNot => ClauseOccur::MustNot,
                    Prefix::None if clause.is_filter && !explicit_or => ClauseOccur::Must,
                    Prefix::None => ClauseOccur::Should,
                };
                (occur, clause.node)
            })
            .collect();
        Ok(match nodes.len() {
            0 => QueryNode::MatchAll,
            1 if nodes[0].0 != ClauseOccur::MustNot => nodes.pop().map(|(_, node)| node).unwrap_or(QueryNode::MatchAll),
            _ => QueryNode::Bool(nodes),
        })
    }

    /// `and_expr := unary (AND unary)*`
    fn parse_and(&mut self) -> Result<Option<Clause>, QueryError> {
        let Some(first) = self.parse_unary()? else {
            return Ok(None);
        };
        let mut parts = vec![first];
        while self.eat_operator("AND") || self.eat_operator("&&") {
            if let Some(next) = self.parse_unary()? {
                parts.push(next);
            }
        }
        if parts.len() == 1 {
            return Ok(parts.pop());
        }
        let nodes = parts
            .into_iter()
            .map(|part| {
                let occur = match part.prefix {
                    Prefix::MustNot => ClauseOccur::MustNot,
                    Prefix::None | Prefix::Must => ClauseOccur::Must,
                };
                (occur, part.node)
            })
            .collect();
        Ok(Some(Clause {
            prefix: Prefix::None,
            node: QueryNode::Bool(nodes),
            is_filter: false,
        }))
    }

    /// `unary := ('+' | '-' | NOT | '!') unary | primary`
    fn parse_unary(&mut self) -> Result<Option<Clause>, QueryError> {
        self.skip_ws();
        let prefix = if self.eat_operator("NOT") {
            Prefix::MustNot
        } else {
            match self.peek() {
                Some('+') => {
                    self.pos += 1;
                    Prefix::Must
                }
                Some('-') | Some('!') => {
                    self.pos += 1;
                    Prefix::MustNot
                }
                _ => Prefix::None,
            }
        };
        if prefix != Prefix::None {
            self.skip_ws();
            if self.at_end_of_group() {
                return Ok(None);
            }
        }
        let Some((node, is_filter)) = self.parse_primary()? else {
            return Ok(None);
        };
        Ok(Some(Clause {
            prefix,
            node,
            is_filter,
        }))
    }

    /// `primary := '(' or_expr ')' | field ':' value | '"' phrase '"' | word`
    fn parse_primary(&mut self) -> Result<Option<(QueryNode, bool)>, QueryError> {
        self.skip_ws();
        match self.peek() {
            None | Some(')') => Ok(None),
            Some('(') => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > MAX_QUERY_DEPTH {
                    return Err(QueryError::TooDeep);
                }
                let node = self.parse_or()?;
                self.depth -= 1;
                self.eat(')');
                Ok(Some((node, false)))
            }
            Some('"') => {
                let text = self.read_quoted();
                Ok(Some((text_node(TextTarget::Default, text, true), false)))
            }
            Some(_) => {
                if let Some(kind) = self.try_field_prefix()? {
                    return self.parse_field_value(kind).map(Some);
                }
                let word = self.read_word();
                Ok(Some((text_node(TextTarget::Default, word, false), false)))
            }
        }
    }

    /// If the cursor is at `name:` with a known field name, consumes it; `name:value` with an
    /// unknown name is an error (a URL such as `http://...` stays text).
    fn try_field_prefix(&mut self) -> Result<Option<(String, FieldKind)>, QueryError> {
        let start = self.pos;
        let mut end = start;
        while self
            .chars
            .get(end)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_')
        {
            end += 1;
        }
        if end == start || self.chars.get(end) != Some(&':') {
            return Ok(None);
        }
        let name: String = self.chars[start..end].iter().collect();
        let Some(kind) = field_kind(&name) else {
            let after = &self.chars[end + 1..];
            let url = after.starts_with(&['/', '/']);
            let has_value = after.first().is_some_and(|c| !c.is_whitespace() && *c != ')');
            return if has_value && !url {
                Err(QueryError::UnknownField(name))
            } else {
                Ok(None)
            };
        };
        self.pos = end + 1;
        Ok(Some((name, kind)))
    }

    fn parse_field_value(&mut self, (name, kind): (String, FieldKind)) -> Result<(QueryNode, bool), QueryError> {
        let value_missing = self.peek().is_none_or(|c| c.is_whitespace() || c == ')');
        if value_missing {
            return Err(QueryError::MissingValue(name));
        }
        match kind {
            FieldKind::Text(target) => {
                if self.peek() == Some('"') {
                    let text = self.read_quoted();
                    Ok((text_node(target, text, true), false))
                } else {
                    let word = self.read_word();
                    Ok((text_node(target, word, false), false))
                }
            }
            FieldKind::Keyword(field) => {
                let raw = if self.peek() == Some('"') {
                    self.read_quoted()
                } else {
                    self.read_word()
                };
                let value = normalize_keyword(&raw);
                if value.is_empty() {
                    return Err(QueryError::MissingValue(name));
                }
                Ok((QueryNode::Keyword { field, value }, true))
            }
            FieldKind::Date(field) => {
                let (lower, upper) = self.parse_date_value()?;
                Ok((QueryNode::DateRange { field, lower, upper }, true))
            }
        }
    }

    /// `[a TO b]`, `{a TO b}` (mixable), `>=a`, `>a`, `<=a`, `<a` or a bare period.
    fn parse_date_value(&mut self) -> Result<(Bound<jiff::Timestamp>, Bound<jiff::Timestamp>), QueryError> {
        match self.peek() {
            Some(open @ ('[' | '{')) => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ']' && c != '}') {
                    self.pos += 1;
                }
                let inner: String = self.chars[start..self.pos].iter().collect();
                let close = self.peek();
                if close.is_some() {
                    self.pos += 1;
                }
                let raw = format!("{open}{inner}{}", close.unwrap_or(' '));
                let words: Vec<&str> = inner.split_whitespace().collect();
                let [from, to_kw, to] = words.as_slice() else {
                    return Err(QueryError::BadRange(raw));
                };
                if !to_kw.eq_ignore_ascii_case("to") {
                    return Err(QueryError::BadRange(raw));
                }
                let lower = lower_bound(from, open == '[')?;
                let upper = upper_bound(to, close != Some('}'))?;
                Ok((lower, upper))
            }
            _ => {
                let word = self.read_word();
                let (op, value) = ["<=", ">=", "<", ">"]
                    .iter()
                    .find_map(|op| word.strip_prefix(op).map(|rest| (*op, rest)))
                    .unwrap_or(("", word.as_str()));
                Ok(match op {
                    ">=" => (lower_bound(value, true)?, Bound::Unbounded),
                    ">" => (lower_bound(value, false)?, Bound::Unbounded),
                    "<=" => (Bound::Unbounded, upper_bound(value, true)?),
                    "<" => (Bound::Unbounded, upper_bound(value, false)?),
                    _ => {
                        let period = parse_period(value)?;
                        (Bound::Included(period.start), Bound::Excluded(period.end))
                    }
                })
            }
        }
    }

    /// Reads a `"..."` string (cursor on the opening quote); an unterminated quote runs to
    /// the end of the input.
    fn read_quoted(&mut self) -> String {
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| c != '"') {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if self.peek() == Some('"') {
            self.pos += 1;
        }
        text
    }

    fn read_word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| !is_word_end(c)) {
            self.pos += 1;
        }
        if self.pos == start {
            // A lone character that cannot start a word (never happens for '(' ')' '"',
            // which are handled by the caller): consume it so parsing always advances.
            self.pos += 1;
        }
        self.chars[start..self.pos.min(self.chars.len())].iter().collect()
    }
}

fn text_node(target: TextTarget, text: String, phrase: bool) -> QueryNode {
    QueryNode::Text { target, text, phrase }
}
