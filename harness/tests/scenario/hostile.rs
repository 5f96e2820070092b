//! Scenario paths a careless or hostile user may give: devices, pipes,
//! link loops, links out of the folder. Each ends at once with a message
//! naming the path; none reads forever or lists a file twice.

use std::os::unix::fs::symlink;
use std::path::Path;

use gameday::scenario::{self, DiscoverError};

const MINIMAL: &str = include_str!("../../../fixtures/scenarios/valid/minimal.yaml");

fn folder_with_one_scenario() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.yaml"), MINIMAL).unwrap();
    dir
}

#[test]
fn a_device_behind_a_yaml_link_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("zero.yaml");
    symlink("/dev/zero", &link).unwrap();
    let err = scenario::load_one(&link).unwrap_err().to_string();
    assert!(
        err.contains("is not a regular file (it is a device)"),
        "{err}"
    );
    assert!(err.contains("zero.yaml"), "{err}");
}

#[test]
fn a_named_pipe_is_refused_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("x.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Opening a FIFO with no writer blocks: the load must not open it.
    let err = scenario::load_one(&fifo).unwrap_err().to_string();
    assert!(
        err.contains("is not a regular file (it is a named pipe)"),
        "{err}"
    );
}

#[test]
fn a_link_back_to_a_parent_folder_is_a_loop_named_with_its_path() {
    let dir = folder_with_one_scenario();
    symlink(dir.path(), dir.path().join("sub/back")).unwrap();
    let err = scenario::discover(&[dir.path().to_owned()]).unwrap_err();
    assert!(matches!(err, DiscoverError::Loop { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("sub/back") && text.contains("(a loop); remove the link"),
        "{text}"
    );
}

#[test]
fn a_link_out_of_the_folder_is_not_followed() {
    let dir = folder_with_one_scenario();
    symlink("/", dir.path().join("sub/root")).unwrap();
    let err = scenario::discover(&[dir.path().to_owned()]).unwrap_err();
    assert!(matches!(err, DiscoverError::OutOfFolder { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("pass that folder as its own argument"),
        "{err}"
    );
}

#[test]
fn a_folder_or_file_reached_twice_is_listed_once() {
    let dir = folder_with_one_scenario();
    // A second link to a sibling folder (not a loop) and a file link.
    symlink(dir.path().join("sub"), dir.path().join("also")).unwrap();
    symlink(dir.path().join("sub/a.yaml"), dir.path().join("b.yaml")).unwrap();
    let files =
        scenario::discover(&[dir.path().to_owned(), dir.path().join("sub/a.yaml")]).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with(dir.path()));
    let real = |p: &Path| std::fs::canonicalize(p).unwrap();
    assert_eq!(real(&files[0]), real(&dir.path().join("sub/a.yaml")));
}

#[test]
fn a_deeply_nested_scenario_is_refused_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: gameday/v1alpha1\nspec: {}",
            "[".repeat(100_000)
        ),
    )
    .unwrap();
    let err = scenario::load_one(&file).unwrap_err().to_string();
    assert!(
        err.contains("deep.yaml:2:135: the YAML nests deeper than 128 levels"),
        "{err}"
    );
}
