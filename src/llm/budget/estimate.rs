//! The worst case of a call, before it is made, and the cost of one after.
//!
//! The prompt is estimated from its length (characters / 3.5, rounded up, plus
//! [`TOKENS_PER_MESSAGE`] per message and once for the system prompt); the answer is at most
//! `max_tokens`. Prices are USD per million tokens; see the module above for cache rates.

use super::super::{Request, Usage};
use crate::config::agents::Price;

/// Tokens added per message (and once for the system prompt) for the chat framing.
pub const TOKENS_PER_MESSAGE: u64 = 4;
/// Cache reads cost this much of the input price.
pub const CACHE_READ_FACTOR: f64 = 0.1;
/// Cache writes cost this much of the input price.
pub const CACHE_WRITE_FACTOR: f64 = 1.25;
/// Money is compared with this slack, so rounding never refuses a call that fits exactly.
pub const EPSILON_USD: f64 = 1e-9;

/// What a call could cost at most.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorstCase {
    pub prompt_tokens: u64,
    pub max_tokens: u64,
    /// `None` when the model has no price.
    pub cost_usd: Option<f64>,
}

impl WorstCase {
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.max_tokens
    }
}

/// The prompt's tokens, estimated: characters / 3.5 rounded up, plus the framing.
pub fn estimate_prompt_tokens(request: &Request) -> u64 {
    let chars: usize = request.system.chars().count()
        + request
            .messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum::<usize>();
    let chars = chars as u64;
    (chars * 2).div_ceil(7) + TOKENS_PER_MESSAGE * (request.messages.len() as u64 + 1)
}

/// The worst case of `request` at `price` (none: tokens only).
pub fn worst_case(request: &Request, price: Option<&Price>) -> WorstCase {
    let prompt_tokens = estimate_prompt_tokens(request);
    let max_tokens = u64::from(request.max_tokens);
    let cost_usd = price.map(|p| {
        let prompt_rate = p.input * CACHE_WRITE_FACTOR.max(1.0);
        (prompt_tokens as f64 * prompt_rate + max_tokens as f64 * p.output) / 1e6
    });
    WorstCase {
        prompt_tokens,
        max_tokens,
        cost_usd,
    }
}

/// What `usage` cost at `price`.
pub fn cost_usd(usage: &Usage, price: &Price) -> f64 {
    (usage.input_tokens as f64 * price.input
        + usage.output_tokens as f64 * price.output
        + usage.cache_read_tokens as f64 * price.input * CACHE_READ_FACTOR
        + usage.cache_write_tokens as f64 * price.input * CACHE_WRITE_FACTOR)
        / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AgentName;
    use crate::llm::{Message, Role};

    fn request(system: &str, messages: &[&str], max_tokens: u32) -> Request {
        Request {
            agent: AgentName::Planner,
            job: None,
            task: None,
            system: system.into(),
            messages: messages
                .iter()
                .map(|m| Message {
                    role: Role::User,
                    content: (*m).into(),
                })
                .collect(),
            max_tokens,
            temperature: None,
        }
    }

    #[test]
    fn prompt_estimate_rounds_up_and_counts_framing() {
        // 7 chars → exactly 2 tokens; framing: 4 for the system + 4 per message.
        assert_eq!(estimate_prompt_tokens(&request("abcdefg", &[], 10)), 2 + 4);
        // 8 chars → 2.29 → 3 tokens, across system and messages; two framings.
        assert_eq!(
            estimate_prompt_tokens(&request("abcd", &["efgh"], 10)),
            3 + 8
        );
        // Characters, not bytes: 7 × 'é' is 14 bytes but 2 tokens.
        assert_eq!(estimate_prompt_tokens(&request("ééééééé", &[], 0)), 2 + 4);
        assert_eq!(estimate_prompt_tokens(&request("", &[], 0)), 4);
    }

    #[test]
    fn worst_case_prices_the_prompt_at_the_dearest_rate_and_all_of_max_tokens() {
        let price = Price {
            input: 3.0,
            output: 15.0,
        };
        // 3500 chars → 1000 tokens + 8 framing; 2000 answer tokens.
        let r = request(&"x".repeat(3500), &[""], 2000);
        let worst = worst_case(&r, Some(&price));
        assert_eq!((worst.prompt_tokens, worst.max_tokens), (1008, 2000));
        assert_eq!(worst.tokens(), 3008);
        let expected = (1008.0 * 3.0 * 1.25 + 2000.0 * 15.0) / 1e6;
        assert!((worst.cost_usd.unwrap() - expected).abs() < 1e-12);
        assert_eq!(worst_case(&r, None).cost_usd, None);
        // A real call of exactly that size never costs more than its worst case.
        let usage = Usage {
            input_tokens: 8,
            output_tokens: 2000,
            cache_read_tokens: 0,
            cache_write_tokens: 1000,
        };
        assert!(cost_usd(&usage, &price) <= worst.cost_usd.unwrap() + EPSILON_USD);
    }

    #[test]
    fn cost_prices_cache_reads_and_writes() {
        let price = Price {
            input: 2.0,
            output: 10.0,
        };
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            cache_read_tokens: 1_000_000,
            cache_write_tokens: 1_000_000,
        };
        let expected = 2.0 + 1.0 + 0.2 + 2.5;
        assert!((cost_usd(&usage, &price) - expected).abs() < 1e-9);
    }
}
