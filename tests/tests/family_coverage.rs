//! Every finding type GuardDuty documents belongs to a family with its own reading, and the
//! README's coverage table is the one the code implies (so it cannot drift).

use serde_json::json;
use std::collections::BTreeMap;
use triage_domain::classify::classify;
use triage_domain::finding::{Family, Finding};

fn documented_types() -> Vec<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/guardduty/finding_types_2025-12.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cells = line.splitn(3, ',');
            Some((cells.next()?.to_owned(), cells.next()?.to_owned()))
        })
        .collect()
}

fn finding(finding_type: &str) -> Finding {
    serde_json::from_value(json!({"id": "a", "type": finding_type, "severity": 5})).unwrap()
}

#[test]
fn every_documented_type_has_a_family_and_a_reading() {
    let types = documented_types();
    assert_eq!(types.len(), 199);
    for (t, _) in &types {
        let f = finding(t);
        assert_ne!(f.family(), Family::Other, "{t} has no family");
        // A Medium finding of any documented type gets at least one piece of evidence, so the
        // notice never says that no rule applies.
        assert!(!classify(&f).evidence.is_empty(), "{t}: no rule applies");
    }
    assert!(
        classify(&finding("Impact:EC2/SomethingNew"))
            .evidence
            .is_empty()
    );
}

/// The README's coverage table, as the code implies it: one row per family, its number of
/// documented types and two examples.
fn coverage_table() -> String {
    let mut by_family: BTreeMap<Family, Vec<String>> = BTreeMap::new();
    for (t, _) in documented_types() {
        by_family.entry(finding(&t).family()).or_default().push(t);
    }
    let mut out = String::from("| family | types | for example |\n|---|---|---|\n");
    for (family, types) in by_family {
        let examples: Vec<String> = types.iter().take(2).map(|t| format!("`{t}`")).collect();
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            family.as_str(),
            types.len(),
            examples.join(", ")
        ));
    }
    out
}

#[test]
fn readme_coverage_table_matches_the_code() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let table = coverage_table();
    assert!(
        readme.contains(&table),
        "README's coverage table is out of date; it should read:\n{table}"
    );
}

#[test]
fn readme_lists_every_technique_of_the_catalogue() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    for t in triage_domain::behaviour::catalogue::TECHNIQUES {
        assert!(
            readme.contains(&format!("`{}`", t.signal)) && readme.contains(t.id),
            "README's behaviour catalogue lacks {} ({})",
            t.signal,
            t.id
        );
    }
}
