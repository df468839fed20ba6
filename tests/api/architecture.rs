//! The library's top-level modules import each other without cycles.
//!
//! Reads `src/**/*.rs` (not `src/bin/`, whose tools sit on top of the
//! library), collects which top-level module names which through `crate::`
//! and `super::` paths (`use crate::{a, b::c}` groups included), and fails
//! naming every cycle with the lines that close it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where one module names another: for the failure message.
type Edges = BTreeMap<(String, String), Vec<String>>;

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges(&src);
    assert!(
        edges.keys().any(|(a, b)| a != b),
        "no imports found under {}: the scanner is broken",
        src.display()
    );
    let cycles = cycles(&edges);
    let report: Vec<String> = cycles
        .iter()
        .map(|cycle| {
            let lines: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let at = &edges[&(w[0].clone(), w[1].clone())];
                    format!("    {} -> {}: {}", w[0], w[1], at.join(", "))
                })
                .collect();
            format!("  {}\n{}", cycle.join(" -> "), lines.join("\n"))
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles between top-level modules:\n{}",
        report.join("\n")
    );
}

/// The raw client is for tests, benchmarks and the load tool: it leans on
/// nothing of the server but plain types, and no server module uses it.
#[test]
fn the_wire_client_and_the_server_do_not_know_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges(&src);
    let wrong: Vec<String> = edges
        .iter()
        .filter(|((a, b), _)| {
            (a == "wire_client" && b != "domain") || (b == "wire_client" && a != "wire_client")
        })
        .map(|((a, b), at)| format!("{a} -> {b}: {}", at.join(", ")))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every `.rs` file under `dir`, but not under `src/bin/`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "bin") && dir.ends_with("src") {
                continue;
            }
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src`: `src/a/b.rs` and `src/a/b/mod.rs`
/// are `["a", "b"]`; `src/lib.rs` and `src/main.rs` are the root, `[]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod")) {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

fn edges(src: &Path) -> Edges {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut edges = Edges::new();
    for file in files {
        let module = module_path(src, &file);
        let Some(from) = module.first() else {
            continue; // The crate root only lists modules.
        };
        let text = std::fs::read_to_string(&file).expect("read source");
        // Comments dropped, lines kept: a `use` group may span many.
        let code: Vec<&str> = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect();
        for (line, to) in named_modules(&code.join("\n"), &module) {
            if &to != from {
                let shown = file
                    .strip_prefix(src.parent().unwrap_or(src))
                    .unwrap_or(&file);
                let at = format!("{}:{line}", shown.display());
                edges.entry((from.clone(), to)).or_default().push(at);
            }
        }
    }
    edges
}

/// The top-level modules `code` names through `crate::` or `super::`
/// paths, seen from the file of module `module`, with their line numbers.
fn named_modules(code: &str, module: &[String]) -> BTreeSet<(usize, String)> {
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    for start in 0..code.len() {
        if !code.is_char_boundary(start) || (start > 0 && is_ident(bytes[start - 1])) {
            continue;
        }
        let rest = &code[start..];
        let resolved = if let Some(after) = rest.strip_prefix("crate::") {
            Some((Vec::new(), after))
        } else if rest.starts_with("super::") && (start < 7 || &code[start - 7..start] != "super::")
        {
            resolve_super(rest, module)
        } else {
            None
        };
        let Some((base, after)) = resolved else {
            continue;
        };
        let line = code[..start].matches('\n').count() + 1;
        for first in first_segments(after) {
            found.insert((line, base.first().cloned().unwrap_or(first)));
        }
    }
    found
}

/// `super::super::x` from `module`: the module it lands in and what follows.
fn resolve_super<'a>(mut rest: &'a str, module: &[String]) -> Option<(Vec<String>, &'a str)> {
    let mut base = module.to_vec();
    while let Some(after) = rest.strip_prefix("super::") {
        base.pop()?;
        rest = after;
    }
    Some((base, rest))
}

/// The first path segments after `crate::`: one, or each of a `{...}` group.
fn first_segments(after: &str) -> Vec<String> {
    if let Some(group) = after.strip_prefix('{') {
        let mut depth = 0usize;
        let mut items = Vec::new();
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(std::mem::take(&mut item));
                    continue;
                }
                _ => {}
            }
            if depth == 0 {
                item.push(c);
            }
        }
        items.push(item);
        items
            .iter()
            .filter_map(|i| ident(i.trim_start()))
            .filter(|i| i != "self")
            .collect()
    } else {
        ident(after).into_iter().collect()
    }
}

fn ident(s: &str) -> Option<String> {
    let end = s.bytes().position(|b| !is_ident(b)).unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_owned())
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// One cycle per strongly connected component of more than one module,
/// as a path that starts and ends at its first module.
fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        if a != b {
            graph.entry(a).or_default().insert(b);
            graph.entry(b).or_default();
        }
    }
    let reaches = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(m) = todo.pop() {
            for &n in &graph[m] {
                if seen.insert(n.to_owned()) {
                    todo.push(n);
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&str, BTreeSet<String>> = graph.keys().map(|&m| (m, reaches(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for &m in graph.keys() {
        if done.contains(m) || !reach[m].contains(m) {
            continue;
        }
        let component: BTreeSet<&str> = graph
            .keys()
            .copied()
            .filter(|&n| reach[m].contains(n) && reach[n].contains(m))
            .collect();
        done.extend(component.iter().map(|s| s.to_owned()));
        out.push(path_back(&graph, &component, m));
    }
    out
}

/// The shortest path from `start` back to itself inside `component`.
fn path_back(
    graph: &BTreeMap<&str, BTreeSet<&str>>,
    component: &BTreeSet<&str>,
    start: &str,
) -> Vec<String> {
    // Breadth first; `prev` leads each module found back towards `start`.
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(m) = queue.pop_front() {
        for &n in &graph[m] {
            if n == start {
                let mut back = vec![start.to_owned()];
                let mut at = m;
                while at != start {
                    back.push(at.to_owned());
                    at = prev[at];
                }
                back.push(start.to_owned());
                back.reverse();
                return back;
            }
            if component.contains(n) && !prev.contains_key(n) {
                prev.insert(n, m);
                queue.push_back(n);
            }
        }
    }
    vec![start.to_owned()]
}

#[test]
fn the_scanner_reads_groups_super_paths_and_ignores_lookalikes() {
    let m = |code: &str, module: &[&str]| -> Vec<String> {
        let module: Vec<String> = module.iter().map(|s| (*s).to_owned()).collect();
        let found = named_modules(code, &module).into_iter().map(|(_, m)| m);
        found.collect::<BTreeSet<_>>().into_iter().collect()
    };
    assert_eq!(
        m(
            "use crate::{\n    auth::{Auth, Identity},\n    domain, self,\n};",
            &["http"]
        ),
        ["auth", "domain"]
    );
    assert_eq!(m("let x = crate::error::AppError::x();", &["a"]), ["error"]);
    assert_eq!(
        m("use super::bus::Io;", &["realtime", "handlers"]),
        ["realtime"]
    );
    assert_eq!(
        m("use super::{cli, domain};", &["config"]),
        ["cli", "domain"]
    );
    assert_eq!(m("use super::super::x;", &["a", "b"]), ["x"]);
    assert!(m("use mycrate::x; use other_crate::y;", &["a"]).is_empty());
    let mut edges = Edges::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")] {
        edges.insert((a.into(), b.into()), vec![]);
    }
    assert_eq!(cycles(&edges), [["a", "b", "c", "a"]]);
    edges.remove(&("c".into(), "a".into()));
    assert!(cycles(&edges).is_empty());
}

/// Inside each module directory, the files import each other without
/// cycles too (`mod.rs` aside: it declares the others and re-exports).
#[test]
fn the_files_of_each_module_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut report = Vec::new();
    let dirs = std::fs::read_dir(&src).expect("src");
    for dir in dirs.map(|e| e.expect("entry").path()) {
        let Some(top) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !dir.is_dir() || top == "bin" {
            continue;
        }
        let files: BTreeSet<String> = std::fs::read_dir(&dir)
            .expect("module dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
            .filter(|f| f != "mod")
            .collect();
        let mut edges = Edges::new();
        for file in &files {
            let text = std::fs::read_to_string(dir.join(format!("{file}.rs"))).expect("read");
            let code: Vec<&str> = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect();
            let code = code.join("\n");
            for prefix in ["super::".to_owned(), format!("crate::{top}::")] {
                for (i, _) in code.match_indices(prefix.as_str()) {
                    let after = &code[i + prefix.len()..];
                    let line = code[..i].matches('\n').count() + 1;
                    for sibling in first_segments(after) {
                        if files.contains(&sibling) && &sibling != file {
                            let at = format!("src/{top}/{file}.rs:{line}");
                            edges.entry((file.clone(), sibling)).or_default().push(at);
                        }
                    }
                }
            }
        }
        for cycle in cycles(&edges) {
            report.push(format!("  {top}: {}", cycle.join(" -> ")));
        }
    }
    assert!(
        report.is_empty(),
        "import cycles between the files of a module:\n{}",
        report.join("\n")
    );
}
