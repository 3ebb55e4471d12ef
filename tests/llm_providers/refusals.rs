//! Answers that no retry fixes: a refused key, a prompt too long, a bad request; and the
//! key never showing in any of them.

use dayshift::llm::anthropic::AnthropicProvider;
use dayshift::llm::http::{ApiKey, Endpoint};
use dayshift::llm::openai::OpenAiProvider;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_is_not_retried_and_names_its_variable() {
    for proto in Proto::ALL {
        let server = MockServer::start().await;
        let body = json!({"error": {"type": "authentication_error", "message": format!("invalid x-api-key {KEY}")}});
        mount(
            &server,
            proto,
            ResponseTemplate::new(401).set_body_json(body),
            None,
            1,
        )
        .await;
        let (result, waits) = call_reliable(proto, server.uri(), 4).await;
        let err = result.expect_err("refused");
        assert!(
            matches!(err, LlmError::Unauthorized { status: 401, .. }),
            "{proto:?}: {err:?}"
        );
        assert!(err.to_string().contains(KEY_ENV), "{err}");
        assert!(!err.to_string().contains(KEY) && !format!("{err:?}").contains(KEY));
        assert!(waits.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn too_long_prompts_and_bad_requests_are_typed() {
    for proto in Proto::ALL {
        let server = MockServer::start().await;
        mount(
            &server,
            proto,
            ResponseTemplate::new(400).set_body_json(proto.too_long_body()),
            Some(1),
            1,
        )
        .await;
        let body = json!({"error": {"type": "not_found_error", "message": "model: fake-model-1 not found"}});
        mount(
            &server,
            proto,
            ResponseTemplate::new(404).set_body_json(body),
            None,
            1,
        )
        .await;
        let (first, _) = call_reliable(proto, server.uri(), 4).await;
        assert_eq!(
            first,
            Err(LlmError::ContextTooLong {
                provider: "fake".into()
            }),
            "{proto:?}"
        );
        let (second, _) = call_reliable(proto, server.uri(), 4).await;
        let message = second.expect_err("refused").to_string();
        assert_eq!(
            message,
            "fake: the request was refused (HTTP 404): model: fake-model-1 not found"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_a_connection_error() {
    for proto in Proto::ALL {
        let (result, _) = call_once(proto, closed_port_uri(), short_timeouts()).await;
        match result {
            Err(LlmError::Connection { detail, .. }) => {
                assert!(detail.to_lowercase().contains("refused"), "{detail}")
            }
            other => panic!("{proto:?}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_never_appears_in_errors() {
    for proto in Proto::ALL {
        let server = MockServer::start().await;
        let echo = json!({"error": {"type": "invalid_request_error", "message": format!("key {CANARY} is not valid for this model")}});
        mount(
            &server,
            proto,
            ResponseTemplate::new(400).set_body_json(echo.clone()),
            Some(1),
            1,
        )
        .await;
        mount(
            &server,
            proto,
            ResponseTemplate::new(401).set_body_json(echo.clone()),
            Some(1),
            1,
        )
        .await;
        mount(
            &server,
            proto,
            ResponseTemplate::new(500).set_body_json(echo),
            Some(1),
            1,
        )
        .await;
        let (uri, refused) = (server.uri(), closed_port_uri());
        let errors = blocking(move || {
            let provider = proto.provider("fake", &uri, CANARY, short_timeouts());
            let unreachable = proto.provider("fake", &refused, CANARY, short_timeouts());
            let mut errors: Vec<LlmError> = (0..3)
                .filter_map(|_| provider.complete(&request()).err())
                .collect();
            errors.extend(unreachable.complete(&request()).err());
            errors
        })
        .await;
        assert_eq!(errors.len(), 4, "{proto:?}: {errors:?}");
        assert!(
            errors[0]
                .to_string()
                .contains("key [redacted] is not valid"),
            "{}",
            errors[0]
        );
        for e in &errors {
            assert!(
                !e.to_string().contains(CANARY) && !format!("{e:?}").contains(CANARY),
                "{proto:?}: {e:?}"
            );
        }
    }
    let debug = blocking(|| {
        let endpoint = Endpoint {
            name: "fake".into(),
            model: MODEL.into(),
            base_url: None,
            key: Some(ApiKey::new(CANARY)),
            key_env: KEY_ENV.into(),
            timeouts: short_timeouts(),
        };
        let anthropic = AnthropicProvider::new(endpoint.clone()).expect("anthropic");
        let openai = OpenAiProvider::new(endpoint).expect("openai");
        format!("{anthropic:?} {openai:?}")
    })
    .await;
    assert!(
        debug.contains("[redacted]") && !debug.contains(CANARY),
        "{debug}"
    );
}
