use super::*;

const PYTEST_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="0.1">
<!-- a <testcase name="commented"> is not a test -->
<testcase classname="tests.test_x" name="test_ok" time="0.001" />
<testcase classname="tests.test_x" name="test_y" time="0.002"><failure message="assert 1 == 2">def test_y():
&gt;       assert 1 == 2
E       assert 1 &lt; 2</failure></testcase>
<testcase classname="tests.test_x" name="test_p[a&amp;b]"><error message="fixture"><![CDATA[ <testcase name="fake"> ]]></error></testcase>
<testcase classname='tests.test_x' name='test_skip'><skipped type="pytest.skip" message="later"/></testcase>
<testcase classname="tests.test_x" name="test_out"><system-out>1 &lt; 2</system-out></testcase>
</testsuite></testsuites>"#;

#[test]
fn pytest_junit_with_failure_error_skip() {
    let r = parse_junit(PYTEST_XML).unwrap();
    assert_eq!((r.passed, r.failed, r.skipped), (2, 2, 1));
    let ids: Vec<_> = r.failures.iter().map(String::as_str).collect();
    assert_eq!(ids, ["tests.test_x.test_p[a&b]", "tests.test_x.test_y"]);
    assert_eq!(r.source, ReportSource::JUnit);
}

#[test]
fn truncated_xml_counts_what_was_read() {
    let cut = &PYTEST_XML[..PYTEST_XML.find("assert 1 == 2\">").unwrap() + 5];
    let r = parse_junit(cut).unwrap();
    assert_eq!(r.passed, 1);
    let cut = &PYTEST_XML[..PYTEST_XML.find("assert 1 == 2\">").unwrap() + 20];
    let r = parse_junit(cut).unwrap();
    assert!(r.failures.contains("tests.test_x.test_y"), "{r:?}");
}

#[test]
fn garbage_and_empty_documents() {
    assert!(parse_junit("").is_none());
    assert!(parse_junit("not xml at all < > <<< &&& ;").is_none());
    assert!(parse_junit("<html><body>oops</body></html>").is_none());
    let r = parse_junit("<testsuite tests=\"0\"/>").unwrap();
    assert_eq!(r.passed + r.failed + r.skipped, 0);
    for weird in [
        "<testcase",
        "<testcase name=\"a",
        "<testcase name='a'><failure",
        "<!--",
        "<![CDATA[",
        "<testcase name=\"&#xZZ;&#99999999;&\"/>",
    ] {
        let _ = parse_junit(weird);
    }
}

#[test]
fn attributes_are_matched_whole_and_decoded() {
    let r = parse_junit(
        r#"<testcase myname="no" name="t&#65;&#x42;" classname="C"><failure/></testcase>"#,
    )
    .unwrap();
    assert!(r.failures.contains("C.tAB"), "{r:?}");
    let r = parse_junit(r#"<testcase name="only"><error/></testcase>"#).unwrap();
    assert!(r.failures.contains("only"));
}

#[test]
fn a_failing_case_keeps_its_failure_text_and_captured_output() {
    let r = parse_junit(PYTEST_XML).unwrap();
    assert_eq!(
        r.details["tests.test_x.test_y"],
        "assert 1 == 2\ndef test_y():\n>       assert 1 == 2\nE       assert 1 < 2"
    );
    assert_eq!(
        r.details["tests.test_x.test_p[a&b]"],
        "fixture\n <testcase name=\"fake\">"
    );
    assert_eq!(
        r.details.len(),
        2,
        "passing cases have no block: {:?}",
        r.details
    );
    let xml = r#"<testsuite><system-out>suite-level</system-out>
<testcase classname="api.Api" name="test_status"><failure type="AssertionError" message="503 != 200">Traceback (most recent call last):
  File "api.py", line 3
AssertionError: 503 != 200</failure><system-out><![CDATA[GET /health
]]></system-out><system-err>warn: slow</system-err></testcase>
<testcase classname="api.Api" name="test_other"/></testsuite>"#;
    let r = parse_junit(xml).unwrap();
    assert_eq!(
        r.details["api.Api.test_status"],
        "AssertionError: 503 != 200\nTraceback (most recent call last):\n  File \"api.py\", line 3\nAssertionError: 503 != 200\n[system-out]\nGET /health\n[system-err]\nwarn: slow"
    );
    let huge = format!(
        "<testcase name=\"big\"><failure>{}AssertionError: last</failure></testcase>",
        "x\n".repeat(100_000)
    );
    let r = parse_junit(&huge).unwrap();
    assert!(r.details["big"].len() <= crate::qa::block::BLOCK_CAP);
}
