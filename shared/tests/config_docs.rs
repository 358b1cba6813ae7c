//! The configuration is documented twice, in README.md and in docs/contract.md (the product
//! contract), and the core reads it from one list, `presign_core::config::VARIABLES`. All three
//! must agree: a variable documented but not parsed, parsed but not documented, documented in
//! one file only, or given a different default by the two tables fails this test, which names
//! the variable and the file.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use presign_core::config::VARIABLES;
use presign_core::Config;

/// The files whose `## Configuration` table is checked, relative to the repository root.
const README: &str = "README.md";
const CONTRACT: &str = "docs/contract.md";

/// Every name `Config::from_lookup` asks for, with values that make it visit every branch.
fn names_read() -> BTreeSet<String> {
    let seen = RefCell::new(BTreeSet::new());
    let value = |name: &str| -> Option<String> {
        seen.borrow_mut().insert(name.to_owned());
        Some(match name {
            "ENABLE_PRESIGN"
            | "PRESIGN_SINGLE_USE"
            | "SERVE_OBJECTS"
            | "S3_FORCE_PATH_STYLE"
            | "PRESIGN_REQUIRE_CHECKSUM"
            | "PRESIGN_ALLOW_DELETE"
            | "LOG_OBJECT_KEYS" => "true".into(),
            "PRESIGN_MAX_BYTES" | "PRESIGN_PART_BYTES" => "10485760".into(),
            "AUTH_MAX_TOKEN_AGE" => "3600".into(),
            "S3_ENDPOINT" => "http://127.0.0.1:9000".into(),
            "AUTH_JWKS_URL" => "https://idp.test/jwks".into(),
            "AUTH_JWT_SECRET" => "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVz".into(),
            "CORS_ORIGINS" => "https://a.test".into(),
            "PRESIGN_ALLOWED_CONTENT_TYPES" => "video/*".into(),
            "S3_REGION" => "us-east-1".into(),
            n if n.ends_with("_SECONDS") || n.ends_with("_BATCH") => "30".into(),
            _ => "value".into(),
        })
    };
    assert!(Config::from_lookup(value).is_ok());
    seen.into_inner()
}

/// One variable's row in a configuration table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    /// The `default` cell, whitespace runs collapsed to one space.
    default: String,
    /// 1-based line in the file, for the failure messages.
    line: usize,
}

fn read_doc(file: &str) -> String {
    let path = format!("{}/../{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: cannot read {path}: {e}"))
}

/// The cells of a Markdown table line (`| a | b |` gives `["a", "b"]`). Like GitHub's renderer,
/// every `|` ends a cell, inside backticks too.
fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().strip_prefix('|').unwrap_or(line);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(str::trim).collect()
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `variable | default | meaning` table of the `## Configuration` section of `text`: each
/// variable (a row may name several, comma-separated) with its row's default. Panics, naming
/// `file`, when the section or the table is missing or malformed, or a variable appears twice.
fn config_table(file: &str, text: &str) -> BTreeMap<String, Row> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("## Configuration")).unwrap_or_else(|| panic!("{file}: no `## Configuration` section"));
    let end = lines[start + 1..].iter().position(|l| l.starts_with("## ")).map_or(lines.len(), |i| start + 1 + i);
    let header = (start + 1..end)
        .find(|&i| lines[i].trim_start().starts_with('|'))
        .unwrap_or_else(|| panic!("{file}:{}: the Configuration section has no table", start + 1));
    assert_eq!(
        cells(lines[header]),
        ["variable", "default", "meaning"],
        "{file}:{}: the Configuration table's columns must be `variable | default | meaning`",
        header + 1
    );

    let mut table = BTreeMap::new();
    for (i, line) in lines.iter().enumerate().take(end).skip(header + 2) {
        let line_no = i + 1;
        if !line.trim_start().starts_with('|') {
            break; // the table ends at its first line that is not a row
        }
        let row = cells(line);
        assert!(row.len() >= 3, "{file}:{line_no}: a Configuration row needs the cells variable, default and meaning");
        for name in row[0].split(',').map(str::trim) {
            let bare = name.strip_prefix('`').and_then(|n| n.strip_suffix('`'));
            let Some(bare) = bare.filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')) else {
                panic!("{file}:{line_no}: {name:?} is not a variable name in backticks (like `S3_BUCKET`)");
            };
            let previous = table.insert(bare.to_owned(), Row { default: normalise(row[1]), line: line_no });
            if let Some(previous) = previous {
                panic!("{file}:{line_no}: {bare} is listed twice in the Configuration table (also on line {})", previous.line);
            }
        }
    }
    table
}

/// What is wrong between the two tables and `VARIABLES`, one sentence per problem.
fn disagreements(variables: &BTreeSet<String>, tables: &[(&str, &BTreeMap<String, Row>)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (file, table) in tables {
        for name in variables.iter().filter(|n| !table.contains_key(*n)) {
            problems.push(format!("{name}: read by Config::from_lookup (config.rs VARIABLES) but missing from {file}'s Configuration table"));
        }
        for (name, row) in table.iter().filter(|(n, _)| !variables.contains(*n)) {
            problems.push(format!("{name}: in {file}'s Configuration table (line {}) but not in config.rs VARIABLES, so never read", row.line));
        }
    }
    let ((readme_file, readme), (contract_file, contract)) = (tables[0], tables[1]);
    for (name, r) in readme {
        if let Some(c) = contract.get(name) {
            if r.default != c.default {
                problems.push(format!(
                    "{name}: the default differs: {readme_file}:{} says \"{}\", {contract_file}:{} says \"{}\" (make {readme_file} say what {contract_file} says)",
                    r.line, r.default, c.line, c.default
                ));
            }
        }
    }
    problems
}

#[test]
fn every_variable_read_is_documented_and_listed() {
    let read = names_read();
    let listed: BTreeSet<String> = VARIABLES.iter().map(|s| s.to_string()).collect();
    assert_eq!(read, listed, "config.rs VARIABLES must list exactly what Config::from_lookup reads");

    let readme = config_table(README, &read_doc(README));
    let contract = config_table(CONTRACT, &read_doc(CONTRACT));
    let problems = disagreements(&listed, &[(README, &readme), (CONTRACT, &contract)]);
    assert!(
        problems.is_empty(),
        "{README}, {CONTRACT} and config.rs VARIABLES must list the same variables, and both tables the same default for each:\n  {}\n",
        problems.join("\n  ")
    );
}

/// The checker itself: it reads rows naming several variables, ignores whitespace differences
/// in defaults, and reports each kind of disagreement with the variable and the file.
#[test]
fn the_checker_finds_each_kind_of_disagreement() {
    let doc = |rows: &str| {
        format!(
            "# T\n\n## Configuration (vars)\nText.\n\n| variable | default | meaning |\n|---|---|---|\n{rows}\nAfter.\n\n## Next\n| `NOT_A_ROW` | x | y |\n"
        )
    };
    let a = config_table("a.md", &doc("| `A`, `B` | none | two at once |\n| `C` | `true` with `A`,  else `false` | c |"));
    let b = config_table("b.md", &doc("| `A` | none | a |\n| `B` | `1` | b |\n| `C` | `true` with `A`, else `false` | c |\n| `D` | x | d |"));
    assert_eq!(a.keys().collect::<Vec<_>>(), ["A", "B", "C"]);
    assert_eq!(a["C"], Row { default: "`true` with `A`, else `false`".into(), line: 9 });

    let variables: BTreeSet<String> = ["A", "B", "C", "E"].map(String::from).into();
    let problems = disagreements(&variables, &[("a.md", &a), ("b.md", &b)]);
    assert_eq!(
        problems,
        [
            "E: read by Config::from_lookup (config.rs VARIABLES) but missing from a.md's Configuration table",
            "E: read by Config::from_lookup (config.rs VARIABLES) but missing from b.md's Configuration table",
            "D: in b.md's Configuration table (line 11) but not in config.rs VARIABLES, so never read",
            "B: the default differs: a.md:8 says \"none\", b.md:9 says \"`1`\" (make a.md say what b.md says)",
        ]
    );
    assert!(disagreements(&["A", "B", "C"].map(String::from).into(), &[("a.md", &a), ("a.md", &a)]).is_empty());
}
