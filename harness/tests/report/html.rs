//! `report.html` parses as HTML, holds one timeline per repeat, and keeps
//! text from scenario files inert.

use gameday::report::{html, testing};
use scraper::{Html, Selector};

fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("valid selector")
}

#[test]
fn parses_as_html_with_one_timeline_per_repeat() {
    let report = testing::run_report();
    let doc = Html::parse_document(&html::render(&report));
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    let repeats: usize = report.scenarios.iter().map(|s| s.repeats.len()).sum();
    assert_eq!(repeats, 9, "the sample changed; adjust the test");
    assert_eq!(doc.select(&sel("svg.timeline")).count(), repeats);
    for s in &report.scenarios {
        let section = doc
            .select(&sel(&format!("section#s-{}", s.name)))
            .next()
            .unwrap_or_else(|| panic!("no section for {}", s.name));
        assert_eq!(
            section.select(&sel("svg.timeline")).count(),
            s.repeats.len(),
            "{}",
            s.name
        );
        // One bar row per phase in each timeline.
        for (svg, r) in section.select(&sel("svg.timeline")).zip(&s.repeats) {
            assert_eq!(
                svg.select(&sel("g.phase")).count(),
                r.phases.len(),
                "{}",
                s.name
            );
        }
    }
}

#[test]
fn is_self_contained() {
    let page = html::render(&testing::run_report());
    let doc = Html::parse_document(&page);
    assert_eq!(doc.select(&sel("script")).count(), 0, "no scripts");
    assert_eq!(
        doc.select(&sel("link, img, iframe, object, embed")).count(),
        0
    );
    for attr in ["src=", "href=\"http", "url(http", "@import", "@font-face"] {
        assert!(
            !page.contains(attr),
            "external reference {attr:?} in report.html"
        );
    }
    assert_eq!(doc.select(&sel("head > style")).count(), 1);
}

#[test]
fn over_budget_phase_is_marked_and_named() {
    let doc = Html::parse_document(&html::render(&testing::run_report()));
    let section = doc
        .select(&sel("section#s-cluster-loss-slow"))
        .next()
        .unwrap();
    let failures: Vec<String> = section
        .select(&sel(".failures li"))
        .map(|li| li.text().collect())
        .collect();
    assert_eq!(failures, ["converge 3m40s > budget 3m"]);
    let over: Vec<String> = section
        .select(&sel("g.phase.failed text.phase-label"))
        .map(|t| t.text().collect())
        .collect();
    assert_eq!(over, ["converge"]);
    assert_eq!(section.select(&sel("rect.bar.over")).count(), 1);
    // Passing scenarios draw nothing red.
    let ok = doc.select(&sel("section#s-cluster-loss")).next().unwrap();
    assert_eq!(ok.select(&sel("rect.bar.over, .failures")).count(), 0);
}

#[test]
fn notes_simulated_time_and_shows_stats_and_diff() {
    let doc = Html::parse_document(&html::render(&testing::run_report()));
    let text = |css: &str| -> String {
        doc.select(&sel(css))
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(text("section#s-cluster-loss svg.timeline .note").contains("Simulated time"));
    assert!(text("section#s-controller-loss svg.timeline .note").contains("Wall-clock time"));
    // Repeats > 1: a statistics table with p50/p95/max per phase and total.
    let stats = text("section#s-namespace-loss table.stats tbody");
    for needle in ["converge", "healthy", "recovery (total)", "1m16s"] {
        assert!(stats.contains(needle), "{needle:?} not in {stats}");
    }
    assert_eq!(doc.select(&sel("table.stats")).count(), 1);
    let diff = text("section#s-hand-made-drift ul.diff");
    assert!(
        diff.contains("ConfigMap/podinfo/hand-made-config"),
        "{diff}"
    );
    assert!(diff.contains("allowed by expect.lost"), "{diff}");
    assert!(diff.contains("spec.replicas"), "{diff}");
    let error = text("section#s-controller-loss pre.error");
    assert!(
        error.contains("Cannot connect to the Docker daemon"),
        "{error}"
    );
}

#[test]
fn text_from_scenarios_stays_inert() {
    let mut report = testing::run_report();
    report.scenarios[0].description = "<script>alert('pwned')</script> & <b>bold</b>".into();
    report.scenarios[0].repeats[0].phases[0].name = "<img src=x onerror=alert(1)>".into();
    report.scenarios[3].repeats[0].diff.lost[0].object = "ConfigMap/x/\"><script>".into();
    let page = html::render(&report);
    let doc = Html::parse_document(&page);
    assert_eq!(doc.select(&sel("script, img, b")).count(), 0);
    let desc: String = doc
        .select(&sel("section#s-cluster-loss .desc"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert_eq!(desc, "<script>alert('pwned')</script> & <b>bold</b>");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn aborted_run_renders_the_unfinished_phase() {
    let doc = Html::parse_document(&html::render(&testing::aborted_run_report()));
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(doc.select(&sel("header.run.aborted")).count(), 1);
    assert_eq!(doc.select(&sel("svg.timeline")).count(), 1);
    assert_eq!(doc.select(&sel("rect.unfinished")).count(), 1);
    let not_run: String = doc
        .select(&sel("section#s-node-loss"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(not_run.contains("Not run"), "{not_run}");
}
