//! Runs the shared corpus (`tests/corpus/*.toml`) against the core library.

use lexguard_tests::{Case, filter_for, load};

fn run_case(file: &str, case: &Case) -> Result<(), String> {
    let report = filter_for(case).check(&case.text);
    let json = serde_json::to_value(&report).expect("serializes");
    let ctx = |msg: String| format!("{file}: {:?}: {msg}\nreport: {json:#}", case.name);
    if let Some(v) = &case.verdict {
        if json["verdict"] != v.as_str() {
            return Err(ctx(format!("verdict {} != {v}", json["verdict"])));
        }
        if v == "pass" && !report.hits.is_empty() {
            return Err(ctx("a pass must have no hits".into()));
        }
    }
    if let Some(c) = &case.categories
        && &report.categories != c
    {
        return Err(ctx(format!("categories {:?} != {c:?}", report.categories)));
    }
    if let Some(want) = &case.hits {
        if want.len() != report.hits.len() {
            return Err(ctx(format!("{} hits, want {}", report.hits.len(), want.len())));
        }
        for (i, w) in want.iter().enumerate() {
            let got = &json["hits"][i];
            for (k, v) in w {
                let v = serde_json::to_value(v).expect("toml values convert");
                let g = match k.as_str() {
                    "chars" | "bytes" | "utf16" => &got["span"][k],
                    _ => &got[k],
                };
                if *g != v {
                    return Err(ctx(format!("hit {i}: {k} = {g}, want {v}")));
                }
            }
        }
    }
    Ok(())
}

fn run_file(file: &str) {
    let cases = load(file);
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases.iter().filter_map(|c| run_case(file, c).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

#[test]
fn positive() {
    run_file("positive");
}

#[test]
fn negative() {
    run_file("negative");
}

#[test]
fn safe() {
    run_file("safe");
}
