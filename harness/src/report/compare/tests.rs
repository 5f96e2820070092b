use super::*;
use crate::report::testing;
use crate::report::tree::RunReport;

/// `report` with `phase` of `scenario` made `pct` % longer in every
/// repeat; the later phases and the recovery time move with it.
fn slower(mut report: RunReport, scenario: &str, phase: &str, pct: u64) -> RunReport {
    let s = report
        .scenarios
        .iter_mut()
        .find(|s| s.name == scenario)
        .expect("scenario");
    for r in &mut s.repeats {
        let mut delta = 0;
        for p in &mut r.phases {
            p.start_ms += delta;
            if let Some(end) = p.end_ms.as_mut() {
                if p.name == phase && delta == 0 {
                    delta = (*end - p.start_ms) * pct / 100;
                }
                *end += delta;
            }
        }
        r.recovery_ms = r.recovery_ms.map(|ms| ms + delta);
    }
    report
}

fn regressions(c: &RunComparison) -> Vec<(String, String)> {
    c.regressions()
        .into_iter()
        .map(|(s, p)| (s.to_owned(), p.phase.clone()))
        .collect()
}

#[test]
fn a_phase_30_percent_slower_is_flagged_at_20_percent_and_10_percent_is_not() {
    let base = testing::passing_run_report();
    let tol = Tolerance::default();

    let new = slower(base.clone(), "cluster-loss", "converge", 30);
    let c = compare(&base, &new, &tol).unwrap();
    assert_eq!(
        regressions(&c),
        vec![("cluster-loss".to_owned(), "converge".to_owned())]
    );
    let converge = &c.scenarios[0]
        .1
        .phases
        .iter()
        .find(|p| p.phase == "converge")
        .unwrap();
    assert_eq!(converge.base_ms, Some(94_200));
    assert_eq!(converge.new_ms, Some(122_460));
    assert_eq!(change(converge), "+30.0 %");
    assert!(c.scenarios[0].1.regressed && !c.scenarios[1].1.regressed);

    let new = slower(base.clone(), "cluster-loss", "converge", 10);
    let c = compare(&base, &new, &tol).unwrap();
    assert!(regressions(&c).is_empty(), "{:?}", regressions(&c));
    let converge = c.scenarios[0]
        .1
        .phases
        .iter()
        .find(|p| p.phase == "converge")
        .unwrap();
    assert_eq!(change(converge), "+10.0 %");
}

#[test]
fn a_phase_tolerance_overrides_the_default() {
    let base = testing::passing_run_report();
    let new = slower(base.clone(), "cluster-loss", "converge", 30);
    let mut tol = Tolerance::default();
    tol.phases.insert("converge".to_owned(), 40.0);
    assert!(compare(&base, &new, &tol).unwrap().regressions().is_empty());
    tol.default_pct = 5.0;
    tol.phases.clear();
    // At 5 %, the total (longer by converge's 28 s) regresses too.
    let c = compare(&base, &new, &tol).unwrap();
    let names: Vec<String> = regressions(&c).into_iter().map(|(_, p)| p).collect();
    assert_eq!(names, ["converge", "total"]);
}

#[test]
fn the_same_report_compares_unchanged() {
    let base = testing::passing_run_report();
    let c = compare(&base, &base, &Tolerance::default()).unwrap();
    assert!(c.regressions().is_empty());
    assert!(c.only_in_base.is_empty() && c.only_in_new.is_empty());
    for (_, s) in &c.scenarios {
        assert_eq!(s.phases.last().unwrap().phase, "total");
        assert!(s.phases.iter().all(|p| change(p) == "±0 %"), "{s:?}");
    }
}

#[test]
fn simulated_times_are_not_compared_with_wall_times() {
    let base = testing::passing_run_report();
    let mut new = base.clone();
    new.scenarios[1].time_base = TimeBase::Wall;
    let err = compare(&base, &new, &Tolerance::default()).unwrap_err();
    assert_eq!(
        err,
        CompareError::TimeBase {
            scenario: "namespace-loss".to_owned(),
            base: TimeBase::Simulated,
            new: TimeBase::Wall
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("simulated") && text.contains("wall"),
        "{text}"
    );
}

#[test]
fn a_phase_no_longer_completed_is_a_regression_and_missing_scenarios_are_listed() {
    let base = testing::passing_run_report();
    let mut new = base.clone();
    for r in &mut new.scenarios[0].repeats {
        for p in r.phases.iter_mut().filter(|p| p.name == "converge") {
            p.end_ms = None;
        }
        r.recovery_ms = None;
    }
    new.scenarios.pop();
    let c = compare(&base, &new, &Tolerance::default()).unwrap();
    assert_eq!(c.only_in_base, ["namespace-loss"]);
    let flagged: Vec<String> = regressions(&c).into_iter().map(|(_, p)| p).collect();
    assert_eq!(flagged, ["converge", "total"]);
    let converge = c.scenarios[0]
        .1
        .phases
        .iter()
        .find(|p| p.phase == "converge")
        .unwrap();
    assert_eq!(change(converge), "did not complete");
    assert_eq!(base_to_new(converge), "1m34s → –");
}

#[test]
fn tolerances_parse() {
    assert_eq!(parse_percent("20%").unwrap(), 20.0);
    assert_eq!(parse_percent(" 7.5 % ").unwrap(), 7.5);
    assert_eq!(parse_percent("0").unwrap(), 0.0);
    for bad in ["-1%", "x", "", "NaN", "inf"] {
        assert!(parse_percent(bad).is_err(), "{bad}");
    }
    assert_eq!(
        parse_phase_tolerance("converge=30%").unwrap(),
        ("converge".to_owned(), 30.0)
    );
    assert!(parse_phase_tolerance("=30%").is_err());
    assert!(parse_phase_tolerance("converge").is_err());
}

#[test]
fn attach_puts_the_comparison_in_the_report_and_it_round_trips() {
    let base = testing::passing_run_report();
    let mut new = slower(base.clone(), "cluster-loss", "converge", 30);
    let c = compare(&base, &new, &Tolerance::default()).unwrap();
    attach(&mut new, &c);
    assert!(any_regression(&new));
    let cell = summary_cell(new.scenarios[0].baseline.as_ref().unwrap());
    assert!(cell.contains("regressed: converge +30.0 %"), "{cell}");
    let text = crate::report::json::to_string(&new).unwrap();
    assert_eq!(crate::report::json::from_str(&text).unwrap(), new);
    // Reports without a baseline keep their old shape.
    assert!(
        !crate::report::json::to_string(&base)
            .unwrap()
            .contains("baseline")
    );
}

#[test]
fn markdown_and_html_get_a_baseline_column_only_with_a_baseline() {
    let base = testing::passing_run_report();
    assert!(!crate::report::markdown::render(&base).contains("vs baseline"));
    assert!(!crate::report::html::render(&base).contains("vs baseline"));
    let mut new = slower(base.clone(), "cluster-loss", "converge", 30);
    let c = compare(&base, &new, &Tolerance::default()).unwrap();
    attach(&mut new, &c);
    let md = crate::report::markdown::render(&new);
    let header = md.lines().find(|l| l.starts_with("| scenario")).unwrap();
    assert!(header.ends_with("| vs baseline |"), "{header}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| [cluster-loss]"))
        .unwrap();
    assert!(
        row.ends_with("| ⚠️ total +15.1 % · regressed: converge +30.0 % |"),
        "{row}"
    );
    let row = md
        .lines()
        .find(|l| l.starts_with("| [namespace-loss]"))
        .unwrap();
    assert!(row.ends_with("| total ±0 % |"), "{row}");
    let html = scraper::Html::parse_document(&crate::report::html::render(&new));
    let th = scraper::Selector::parse("section.overview th").unwrap();
    assert_eq!(
        html.select(&th)
            .next_back()
            .unwrap()
            .text()
            .collect::<String>(),
        "vs baseline"
    );
    let bad = scraper::Selector::parse("td.baseline span.bad").unwrap();
    let cells: Vec<String> = html.select(&bad).map(|e| e.text().collect()).collect();
    assert_eq!(cells, ["total +15.1 % · regressed: converge +30.0 %"]);
}
