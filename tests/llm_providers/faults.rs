//! Faults of the transport and the stream: hangs, stalls, endless streams, refused
//! connections, unreadable events and cut-off answers, in both protocols.

use super::*;

fn assert_timeout(
    result: &Result<Answer, LlmError>,
    phase: TimeoutPhase,
    took: Duration,
    proto: Proto,
) {
    match result {
        Err(LlmError::Timeout { phase: p, .. }) if *p == phase => {}
        other => panic!("{proto:?}: expected a {phase:?} timeout, got {other:?}"),
    }
    assert!(took < Duration::from_secs(3), "{proto:?}: took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_accepts_and_never_answers_times_out() {
    for proto in Proto::ALL {
        let uri = raw_server(drain);
        let (result, took) = call_once(proto, uri, short_timeouts()).await;
        assert_timeout(&result, TimeoutPhase::Idle, took, proto);
        assert!(
            took >= Duration::from_millis(350),
            "{proto:?}: gave up before the idle timeout: {took:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_that_stalls_after_one_chunk_times_out_idle() {
    for proto in Proto::ALL {
        let first = proto.first_event();
        let uri = raw_server(move |mut stream| {
            if send_head_and_chunk(&mut stream, &first).is_ok() {
                drain(stream);
            }
        });
        let (result, took) = call_once(proto, uri, short_timeouts()).await;
        assert_timeout(&result, TimeoutPhase::Idle, took, proto);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_that_never_ends_hits_the_overall_deadline() {
    for proto in Proto::ALL {
        let first = proto.first_event();
        let uri = raw_server(move |mut stream| {
            let mut sent = send_head_and_chunk(&mut stream, &first);
            while sent.is_ok() {
                std::thread::sleep(Duration::from_millis(100));
                sent = send_chunk(&mut stream, ": keep-alive\n\n");
            }
        });
        let timeouts = Timeouts {
            overall: Duration::from_secs(1),
            ..short_timeouts()
        };
        let (result, took) = call_once(proto, uri, timeouts).await;
        assert_timeout(&result, TimeoutPhase::Overall, took, proto);
        assert!(took >= Duration::from_secs(1), "{proto:?}: {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_events_are_reported_and_not_retried() {
    for proto in Proto::ALL {
        let server = MockServer::start().await;
        mount(&server, proto, sse(proto.malformed_body()), None, 1).await;
        let (result, waits) = call_reliable(proto, server.uri(), 4).await;
        assert!(
            matches!(result, Err(LlmError::Malformed { .. })),
            "{proto:?}: {result:?}"
        );
        assert!(waits.is_empty());

        // A server that ignores `stream: true` and answers plain JSON.
        let server = MockServer::start().await;
        let json_answer = ResponseTemplate::new(200).set_body_json(json!({"choices": []}));
        mount(&server, proto, json_answer, None, 1).await;
        let (result, _) = call_reliable(proto, server.uri(), 4).await;
        match result {
            Err(LlmError::Malformed { detail, .. }) => {
                assert!(detail.contains("expected an event stream"), "{detail}")
            }
            other => panic!("{proto:?}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cut_streams_are_truncated_and_retried_per_policy() {
    for proto in Proto::ALL {
        let server = MockServer::start().await;
        mount(&server, proto, sse(proto.cut_body("half an ans")), None, 3).await;
        let (result, waits) = call_reliable(proto, server.uri(), 3).await;
        assert!(
            matches!(result, Err(LlmError::Truncated { .. })),
            "{proto:?}: {result:?}"
        );
        assert_eq!(waits.len(), 2);

        let server = MockServer::start().await;
        mount(
            &server,
            proto,
            sse(proto.max_tokens_body("cut at the")),
            None,
            1,
        )
        .await;
        let (result, _) = call_once(proto, server.uri(), short_timeouts()).await;
        match result {
            Err(LlmError::Truncated { reason, .. }) => {
                assert!(reason.contains("max_tokens"), "{reason}")
            }
            other => panic!("{proto:?}: {other:?}"),
        }
    }
}

/// Slow-loris: a server that sends the head, then one byte of an event every 200 ms — never
/// idle long enough for the idle timeout, never finishing a line. The overall deadline
/// (1 s) still ends the call.
#[tokio::test(flavor = "multi_thread")]
async fn a_stream_trickling_one_byte_at_a_time_ends_at_the_overall_deadline() {
    for proto in Proto::ALL {
        let uri = raw_server(move |mut stream| {
            let mut sent = send_head_and_chunk(&mut stream, "d");
            while sent.is_ok() {
                std::thread::sleep(Duration::from_millis(200));
                sent = send_chunk(&mut stream, "a");
            }
        });
        let timeouts = Timeouts {
            overall: Duration::from_secs(1),
            ..short_timeouts()
        };
        let (result, took) = call_once(proto, uri, timeouts).await;
        assert_timeout(&result, TimeoutPhase::Overall, took, proto);
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_millis(1500),
            "{proto:?}: the deadline holds to within a read slice: {took:?}"
        );
    }
}

/// The same trick on the response head: its bytes trickle in one every 200 ms, so the
/// client never has a complete head. The overall deadline (1 s, with a 30 s idle timeout) still
/// ends the call.
#[tokio::test(flavor = "multi_thread")]
async fn a_head_trickling_one_byte_at_a_time_ends_at_the_overall_deadline() {
    for proto in Proto::ALL {
        let uri = raw_server(move |mut stream| {
            use std::io::{Read, Write};
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let head = b"HTTP/1.1 200 OK\r\nx-slow: "
                .iter()
                .chain(std::iter::repeat(&b'a'));
            for byte in head {
                if stream
                    .write_all(&[*byte])
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let timeouts = Timeouts {
            idle: Duration::from_secs(30),
            overall: Duration::from_secs(1),
            ..short_timeouts()
        };
        let (result, took) = call_once(proto, uri, timeouts).await;
        assert!(
            matches!(result, Err(LlmError::Timeout { .. })),
            "{proto:?}: {result:?}"
        );
        assert!(took < Duration::from_millis(1500), "{proto:?}: {took:?}");
    }
}
