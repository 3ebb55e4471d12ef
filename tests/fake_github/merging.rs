//! The fake's merges: they really land on the bare repository's base (merge commit,
//! squash, rebase), and are refused as GitHub refuses them: a stale head SHA, a required
//! check or status that fails or waits. Also update-branch and branch deletion.

use super::*;

#[test]
fn a_merge_lands_a_merge_commit_on_the_bare_base_and_closes_the_pr() {
    let f = Fixture::new();
    let head = f.push_branch("feature", &[("notes.txt", "one\n")]);
    let before = f.main_sha();
    let number = f.open_pr("feature", "Notes");
    let (status, merged) = f.merge(number, json!({"sha": head, "merge_method": "merge"}));
    assert_eq!((status, &merged["merged"]), (200, &json!(true)), "{merged}");

    let after = f.main_sha();
    assert_eq!(merged["sha"], after.as_str());
    let top = &history(&f.bare, "main")[0];
    assert_eq!(
        top,
        &format!("{before} {head}|Merge pull request #{number} from acme/feature")
    );
    let (_, pr) = f.call("GET", &format!("/repos/acme/calc/pulls/{number}"), None);
    assert_eq!(
        (pr["state"].as_str(), pr["merged"].as_bool()),
        (Some("closed"), Some(true))
    );
    assert_eq!(pr["merge_commit_sha"], after.as_str());
    assert_eq!(
        f.merge(number, json!({})).0,
        405,
        "a merged PR merges no more"
    );
}

#[test]
fn a_stale_sha_gets_409_and_leaves_the_base_alone() {
    let f = Fixture::new();
    let old = f.push_branch("feature", &[("notes.txt", "one\n")]);
    let number = f.open_pr("feature", "Notes");
    let new = f.fake.move_head(number);
    assert_ne!(old, new);
    let before = f.main_sha();
    let (status, refusal) = f.merge(number, json!({"sha": old}));
    assert_eq!(
        (status, refusal["message"].as_str()),
        (
            409,
            Some("Head branch was modified. Review and try the merge again.")
        )
    );
    assert_eq!(f.main_sha(), before);
    assert_eq!(f.merge(number, json!({"sha": new})).0, 200);
}

#[test]
fn a_required_check_that_fails_or_is_held_blocks_the_merge() {
    let f = Fixture::new();
    f.fake.ci(
        "tests",
        "echo checking; test -f ok.txt || { echo 'ok.txt is missing'; exit 3; }",
    );
    f.fake.protect(&["tests"], false);
    let (_, protection) = f.call(
        "GET",
        "/repos/acme/calc/branches/main/protection/required_status_checks",
        None,
    );
    assert_eq!(protection["contexts"], json!(["tests"]));

    let failing = f.push_branch("bad", &[("notes.txt", "one\n")]);
    let bad = f.open_pr("bad", "Bad");
    let (_, checks) = f.call(
        "GET",
        &format!("/repos/acme/calc/commits/{failing}/check-runs"),
        None,
    );
    let run = &checks["check_runs"][0];
    assert_eq!(
        (run["status"].as_str(), run["conclusion"].as_str()),
        (Some("completed"), Some("failure"))
    );
    assert!(
        run["output"]["summary"]
            .as_str()
            .unwrap()
            .contains("ok.txt is missing"),
        "{run}"
    );
    let before = f.main_sha();
    assert_eq!(f.merge(bad, json!({"sha": failing})).0, 405);

    f.fake.hold_checks(true);
    let passing = f.push_branch("good", &[("ok.txt", "fine\n")]);
    let good = f.open_pr("good", "Good");
    let (_, checks) = f.call("GET", "/repos/acme/calc/commits/good/check-runs", None);
    assert_eq!(checks["check_runs"][0]["status"], "queued");
    assert_eq!(f.merge(good, json!({"sha": passing})).0, 405);
    assert_eq!(
        f.main_sha(),
        before,
        "nothing merged while checks fail or wait"
    );

    f.fake.hold_checks(false);
    let (_, checks) = f.call(
        "GET",
        &format!("/repos/acme/calc/commits/{passing}/check-runs"),
        None,
    );
    assert_eq!(checks["check_runs"][0]["conclusion"], "success");
    assert_eq!(f.merge(good, json!({"sha": passing})).0, 200);
}

#[test]
fn a_ruleset_requires_commit_statuses_too() {
    let f = Fixture::new();
    f.fake.ruleset(&["lint"]);
    let (_, rules) = f.call("GET", "/repos/acme/calc/rules/branches/main", None);
    assert_eq!(
        rules[0]["parameters"]["required_status_checks"][0]["context"],
        "lint"
    );
    let (status, _) = f.call(
        "GET",
        "/repos/acme/calc/branches/main/protection/required_status_checks",
        None,
    );
    assert_eq!(status, 404);

    let head = f.push_branch("feature", &[("notes.txt", "one\n")]);
    let number = f.open_pr("feature", "Notes");
    f.fake.status("lint", "pending");
    let (_, combined) = f.call(
        "GET",
        &format!("/repos/acme/calc/commits/{head}/status"),
        None,
    );
    assert_eq!(combined["state"], "pending");
    assert_eq!(f.merge(number, json!({"sha": head})).0, 405);
    f.fake.status("lint", "success");
    assert_eq!(f.merge(number, json!({"sha": head})).0, 200);
}

#[test]
fn squash_makes_one_commit_and_rebase_replays_each() {
    let f = Fixture::new();
    let three = [("a.txt", "a\n"), ("b.txt", "b\n"), ("c.txt", "c\n")];
    let squash_head = f.push_branch("squashed", &three);
    let squashed = f.open_pr("squashed", "Three files");
    let before = f.main_sha();
    let (status, _) = f.merge(
        squashed,
        json!({"sha": squash_head, "merge_method": "squash"}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        history(&f.bare, &format!("{before}..main")),
        vec![format!("{before}|Three files (#{squashed})")]
    );
    let tree = |rev: &str| git(&f.bare, &["rev-parse", &format!("{rev}^{{tree}}")]);
    assert_eq!(tree("main"), tree(&squash_head));

    let rebase_head = f.push_branch("rebased", &[("d.txt", "d\n"), ("e.txt", "e\n")]);
    let rebased = f.open_pr("rebased", "Two files");
    let before = f.main_sha();
    assert_eq!(
        f.merge(
            rebased,
            json!({"sha": rebase_head, "merge_method": "rebase"})
        )
        .0,
        200
    );
    let landed = history(&f.bare, &format!("{before}..main"));
    assert_eq!(landed.len(), 2, "{landed:?}");
    assert!(
        landed
            .iter()
            .all(|line| line.split('|').next().unwrap().split(' ').count() == 1)
    );
    assert!(f.fake.prs().iter().all(|pr| pr.merged));
}

#[test]
fn update_branch_merges_the_base_into_the_head_and_a_branch_can_be_deleted() {
    let f = Fixture::new();
    let old_head = f.push_branch("feature", &[("notes.txt", "one\n")]);
    let number = f.open_pr("feature", "Notes");
    f.push_branch("other", &[("other.txt", "x\n")]);
    let other = f.open_pr("other", "Other");
    assert_eq!(f.merge(other, json!({})).0, 200);

    let path = format!("/repos/acme/calc/pulls/{number}/update-branch");
    assert_eq!(
        f.call(
            "PUT",
            &path,
            Some(json!({"expected_head_sha": "0".repeat(40)}))
        )
        .0,
        422
    );
    assert_eq!(
        f.call("PUT", &path, Some(json!({"expected_head_sha": old_head})))
            .0,
        202
    );
    let new_head = f.fake.base_sha("feature").unwrap();
    assert_ne!(new_head, old_head);
    git(&f.bare, &["merge-base", "--is-ancestor", "main", "feature"]);

    assert_eq!(
        f.call("DELETE", "/repos/acme/calc/git/refs/heads/feature", None)
            .0,
        204
    );
    assert_eq!(f.fake.base_sha("feature"), None);
    assert_eq!(
        f.call("DELETE", "/repos/acme/calc/git/refs/heads/feature", None)
            .0,
        422
    );
}
