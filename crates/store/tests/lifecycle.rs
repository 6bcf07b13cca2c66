//! The lifecycles live in `core::status`: the store's SQL builds its lists of states from
//! them (`sql_list`), never as literal `IN ('…')` lists, and every single state it writes
//! into a statement is a word of one of those enums. A state renamed or added in core
//! without its SQL fails here, not in production.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[test]
fn sql_states_come_from_the_lifecycle_enums() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let words = leadrouter_core::status::every_state_word();
    let mut wrong = Vec::new();
    for (path, text) in &files {
        for (n, line) in text.lines().enumerate() {
            let compact = line.replace(' ', "");
            if compact.contains("statusIN('") || compact.contains("statusNOTIN('") {
                wrong.push(format!(
                    "{path}:{}: a literal list of states (use sql_list)",
                    n + 1
                ));
            }
            // `status = 'x'`, `status <> 'x'`: x must be a state of an enum.
            for op in ["status='", "status<>'", "status!='"] {
                let mut rest = compact.as_str();
                while let Some(i) = rest.find(op) {
                    rest = &rest[i + op.len()..];
                    let word: String = rest.chars().take_while(|c| *c != '\'').collect();
                    // `{}`: written from an enum by format!.
                    if !word.starts_with('{') && !words.contains(&word.as_str()) {
                        wrong.push(format!(
                            "{path}:{}: '{word}' is no state of core::status",
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
