//! `vcr import --from vcrpy` on real cassettes recorded by other projects (fixtures/vcrpy/): every
//! one imports, and replaying it gives the bodies that were recorded.

use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vcrpy");
    let mut files = Vec::new();
    for dir in ["openllmetry", "simonw-llm"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert_eq!(files.len(), 13);
    files
}

/// The vcrpy file's own view of each interaction: request body and decoded response body.
fn vcrpy_interactions(path: &Path) -> Vec<(String, Value, Vec<u8>)> {
    let doc = traceforge::yaml::to_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let uri = i["request"]["uri"].as_str().unwrap();
            let path = url::Url::parse(uri).unwrap().path().to_string();
            let body: Value = serde_json::from_str(i["request"]["body"].as_str().unwrap_or("null"))
                .unwrap_or(Value::Null);
            let response = &i["response"]["body"]["string"];
            let bytes = match response {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Object(map) => {
                    use base64::Engine as _;
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(map["!!binary"].as_str().unwrap())
                        .unwrap();
                    let mut out = Vec::new();
                    use std::io::Read as _;
                    flate2::read::GzDecoder::new(&raw[..])
                        .read_to_end(&mut out)
                        .unwrap();
                    out
                }
                _ => Vec::new(),
            };
            (path, body, bytes)
        })
        .collect()
}

#[test]
fn every_vcrpy_fixture_imports_and_replays_the_recorded_bodies() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let mut args = vec![
        "vcr".to_string(),
        "import".into(),
        "--from".into(),
        "vcrpy".into(),
        "--cassettes".into(),
        dir.to_str().unwrap().into(),
    ];
    args.extend(fixtures().iter().map(|p| p.to_str().unwrap().to_string()));
    let output = traceforge_command().args(&args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let rt = runtime();
    let replayer = ProxyProcess::start(
        work.path(),
        &["vcr", "replay", "--cassettes", dir.to_str().unwrap()],
    );
    let mut checked = 0;
    let mut upgraded = 0;
    for fixture in fixtures() {
        let name = fixture.file_stem().unwrap().to_str().unwrap().to_string();
        for (path, mut body, recorded) in vcrpy_interactions(&fixture) {
            // Today's SDKs spell out API defaults the recording SDK left out: they must match.
            if let Some(map) = body.as_object_mut() {
                if path.ends_with("/chat/completions") || path.ends_with("/messages") {
                    if !map.contains_key("stream") {
                        map.insert("stream".into(), Value::Bool(false));
                        upgraded += 1;
                    }
                    if path.ends_with("/chat/completions") && !map.contains_key("n") {
                        map.insert("n".into(), serde_json::json!(1));
                    }
                }
            }
            let upstream = if path.ends_with("/messages") {
                "anthropic"
            } else {
                "openai"
            };
            let received = rt.block_on(post(
                &replayer.url(&format!("/{upstream}{path}")),
                &body,
                &[("x-traceforge-cassette", &name)],
            ));
            assert_eq!(received.status, 200, "{name} {path}: {received:?}");
            let expected = parse_payload(&received.content_type, &recorded);
            match (&expected, &received.payload) {
                (Payload::Events(a), Payload::Events(b)) => {
                    assert_eq!(untimed(a), untimed(b), "{name}")
                }
                (a, b) => assert_eq!(a, b, "{name}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 27, "every recorded interaction was replayed");
    assert!(upgraded >= 5, "{upgraded} requests spelled out a default");
    let stopped = replayer.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
}

#[test]
fn import_refuses_to_overwrite_and_reports_bad_files() {
    let work = tempfile::tempdir().unwrap();
    let fixture = &fixtures()[0];
    let import = |extra: &[&str]| {
        let mut command = traceforge_command();
        command
            .current_dir(work.path())
            .args(["vcr", "import", "--from", "vcrpy", "--cassettes", "c"])
            .args(extra);
        command.output().unwrap()
    };
    assert!(import(&[fixture.to_str().unwrap(), "--cassette", "one"])
        .status
        .success());
    let again = import(&[fixture.to_str().unwrap(), "--cassette", "one"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists (pass --force"));
    assert!(
        import(&[fixture.to_str().unwrap(), "--cassette", "one", "--force"])
            .status
            .success()
    );

    std::fs::write(work.path().join("bad.yaml"), "interactions: [\n").unwrap();
    let bad = import(&["bad.yaml"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.starts_with("error: bad.yaml: line 2"), "{stderr}");
    assert!(
        !work.path().join("c/bad.yaml").exists(),
        "nothing half-written"
    );
}
