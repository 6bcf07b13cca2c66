//! No import cycle between sibling modules, in any crate of the workspace. A module's
//! files may use their parent and its other children; two children of one parent must
//! not each use the other, directly or round a ring: that is how one concept ends up
//! scattered over files that cannot be read apart. Reads `use` trees and `crate::`,
//! `super::` and `self::` paths, as the code writes them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path inside its crate (`["ui", "session"]`; the root is empty).
type ModPath = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file is, by its place under `src/` (`lib.rs`, `main.rs`, `mod.rs` and
/// `foo/foo.rs`-less layouts as Rust reads them).
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code without comments and string literals (so that neither is read as a path).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if b[i] == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == 'r' && b.get(i + 1) == Some(&'#') {
            // r#"..."# raw strings (the only raw form the code uses).
            let mut j = i + 1;
            while b.get(j) == Some(&'#') {
                j += 1;
            }
            if b.get(j) == Some(&'"') {
                let hashes = j - i - 1;
                i = j + 1;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if b[i] == '"' && (1..=hashes).all(|k| b.get(i + k) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    i += 1;
                }
                out.push_str("\"\"");
            } else {
                out.push(b[i]);
                i += 1;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Every path the code names from `crate`, `super` or `self`, with `use` groups expanded
/// (`use super::{a::X, b}` names `super::a::X` and `super::b`).
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let starts = ["crate::", "super::", "self::"].iter().find(|p| {
            let p: Vec<char> = p.chars().collect();
            chars[i..].starts_with(&p) && (i == 0 || !ident(chars[i - 1]) && chars[i - 1] != ':')
        });
        let Some(start) = starts else {
            i += 1;
            continue;
        };
        let (paths, end) = path_tree(&chars, i, start.len() - 2);
        out.extend(paths);
        i = end.max(i + 1);
    }
    out
}

/// The paths of the tree at `i` (`a::b::{c, d::e}`); returns them and where it ends.
fn path_tree(chars: &[char], mut i: usize, _first_len: usize) -> (Vec<Vec<String>>, usize) {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut prefix = Vec::new();
    loop {
        let start = i;
        while i < chars.len() && ident(chars[i]) {
            i += 1;
        }
        if start == i {
            break;
        }
        prefix.push(chars[start..i].iter().collect::<String>());
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            if chars.get(i) == Some(&'{') {
                // A group: each member is a tree of its own.
                i += 1;
                let mut all = Vec::new();
                loop {
                    while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                        i += 1;
                    }
                    if i >= chars.len() || chars[i] == '}' {
                        break;
                    }
                    let (inner, end) = path_tree(chars, i, 0);
                    for p in inner {
                        let mut whole = prefix.clone();
                        whole.extend(p);
                        all.push(whole);
                    }
                    i = end;
                    // Skip `as name` and anything up to the next member.
                    while i < chars.len() && chars[i] != ',' && chars[i] != '}' {
                        i += 1;
                    }
                }
                return (all, i + 1);
            }
            continue;
        }
        break;
    }
    (vec![prefix], i)
}

/// The module a named path reaches, from the module `from` (the longest known prefix).
fn target(from: &ModPath, path: &[String], known: &BTreeSet<ModPath>) -> Option<ModPath> {
    let mut base: ModPath = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => from.clone(),
        "super" => {
            let mut b = from.clone();
            b.pop()?;
            b
        }
        _ => return None,
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    let mut best = base.clone();
    let mut probe = base;
    for part in rest {
        probe.push(part.clone());
        if known.contains(&probe) {
            best = probe.clone();
        }
    }
    Some(best)
}

/// The rings among the children of one parent: each a list of sibling modules.
fn rings(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    // Tarjan's strongly connected components.
    struct T<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<ModPath, usize>,
        low: BTreeMap<ModPath, usize>,
        stack: Vec<ModPath>,
        on: BTreeSet<ModPath>,
        next: usize,
        out: Vec<Vec<ModPath>>,
    }
    fn visit(t: &mut T, v: &ModPath) {
        t.index.insert(v.clone(), t.next);
        t.low.insert(v.clone(), t.next);
        t.next += 1;
        t.stack.push(v.clone());
        t.on.insert(v.clone());
        for w in t.edges.get(v).cloned().unwrap_or_default() {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let lw = t.low[&w];
                let lv = t.low[v];
                t.low.insert(v.clone(), lv.min(lw));
            } else if t.on.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low[v];
                t.low.insert(v.clone(), lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut ring = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = &w == v;
                ring.push(w);
                if done {
                    break;
                }
            }
            if ring.len() > 1 {
                t.out.push(ring);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: Vec<ModPath> = edges.keys().cloned().collect();
    for v in &nodes {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// The sibling-module rings of one crate, each said as `a ↔ b (a uses b: X; b uses a: Y)`.
fn crate_rings(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: Vec<(ModPath, String)> = files
        .iter()
        .map(|f| {
            (
                module_of(src, f),
                code_only(&std::fs::read_to_string(f).unwrap()),
            )
        })
        .collect();
    let known: BTreeSet<ModPath> = modules.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    // Which file named which path, for each edge: what a reader fixes.
    let mut why: BTreeMap<(ModPath, ModPath), BTreeSet<String>> = BTreeMap::new();
    for (from, code) in &modules {
        for path in named_paths(code) {
            let Some(to) = target(from, &path, &known) else {
                continue;
            };
            // The two children of their nearest common parent that hold `from` and `to`.
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common >= from.len() || common >= to.len() {
                continue; // one holds the other: a parent and its own child
            }
            let a = from[..=common].to_vec();
            let b = to[..=common].to_vec();
            why.entry((a.clone(), b.clone()))
                .or_default()
                .insert(format!("{} names {}", from.join("::"), path.join("::")));
            edges.entry(a).or_default().insert(b);
        }
    }
    rings(&edges)
        .into_iter()
        .map(|ring| {
            let names: Vec<String> = ring.iter().map(|m| m.join("::")).collect();
            let mut said = format!("{}: {}", src.display(), names.join(" ↔ "));
            for a in &ring {
                for b in &ring {
                    for w in why
                        .get(&(a.clone(), b.clone()))
                        .into_iter()
                        .flatten()
                        .take(3)
                    {
                        said.push_str(&format!("\n    {w}"));
                    }
                }
            }
            said
        })
        .collect()
}

#[test]
fn no_sibling_modules_use_each_other_round_a_ring() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    let mut read = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            read += 1;
            found.extend(crate_rings(&src));
        }
    }
    assert!(read >= 6, "read the workspace's crates ({read})");
    assert!(
        found.is_empty(),
        "rings of sibling modules:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_a_ring_and_reads_use_groups() {
    let paths = named_paths(&code_only(
        "use super::{client::ClientAddr, form::{Fields, forbidden}};\n// use super::nothing;\nlet s = \"crate::not_code\"; crate::page::render(x);",
    ));
    let said: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        said,
        [
            "super::client::ClientAddr",
            "super::form::Fields",
            "super::form::forbidden",
            "crate::page::render"
        ]
    );
    let a = vec!["ui".to_string(), "a".to_string()];
    let b = vec!["ui".to_string(), "b".to_string()];
    let edges = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(rings(&edges).len(), 1);
}

/// The console's pages (`web/src/ui`) and the JSON API (`web/src/admin`) are two
/// presenters over the same actions: neither names the other.
#[test]
fn the_console_and_the_api_do_not_import_each_other() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src");
    let mut wrong = Vec::new();
    for (dir, other) in [("ui", "admin"), ("admin", "ui")] {
        let mut files = Vec::new();
        rust_files(&web.join(dir), &mut files);
        assert!(!files.is_empty(), "read {dir}");
        for f in files {
            let code = code_only(&std::fs::read_to_string(&f).unwrap());
            for path in named_paths(&code) {
                if path.len() > 1 && path[0] == "crate" && path[1] == other {
                    wrong.push(format!("{} names {}", f.display(), path.join("::")));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
