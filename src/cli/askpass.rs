//! dayshift as git's askpass: how a token reaches `git push` over HTTPS without ever being
//! in a URL, an argument, git's config or a log.
//!
//! For a network command with a token ([`crate::target::Git::with_token`]) git gets
//! `GIT_ASKPASS` = this executable and two variables: [`ASKPASS_VAR`] naming the variable
//! that holds the token, and that variable. git runs `dayshift "Username for 'https://…': "`
//! (answered `x-access-token`, which GitHub accepts with any token) and then
//! `dayshift "Password for 'https://…': "` (answered with the token) and reads stdout.

use crate::target::git::ASKPASS_VAR;

/// The answer to git's prompt when this process was started as git's askpass, else `None`
/// (a normal command line).
pub fn answer(args: &[String], var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let name = var(ASKPASS_VAR)?;
    let [_, prompt] = args else {
        return None;
    };
    if prompt.starts_with("Username") {
        return Some("x-access-token".into());
    }
    if prompt.starts_with("Password") {
        return var(&name);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str) -> Option<String> {
        match name {
            ASKPASS_VAR => Some("GH_TOKEN_X".into()),
            "GH_TOKEN_X" => Some("tok-123".into()),
            _ => None,
        }
    }

    fn args(prompt: &str) -> Vec<String> {
        vec!["dayshift".into(), prompt.into()]
    }

    #[test]
    fn git_prompts_get_the_user_and_the_token() {
        let user = answer(&args("Username for 'https://github.com': "), var);
        assert_eq!(user.as_deref(), Some("x-access-token"));
        let pass = answer(
            &args("Password for 'https://x-access-token@github.com': "),
            var,
        );
        assert_eq!(pass.as_deref(), Some("tok-123"));
    }

    #[test]
    fn without_the_variable_or_with_a_command_it_is_a_normal_command_line() {
        assert_eq!(answer(&args("Password for 'x': "), |_| None), None);
        assert_eq!(answer(&args("status"), var), None);
        assert_eq!(
            answer(&["dayshift".into(), "run".into(), "work".into()], var),
            None
        );
    }
}
