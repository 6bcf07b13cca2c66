//! The rule: no e-mail, phone, name, token or key ever reaches the logs. The binary runs at
//! the most verbose level while it is handed every kind of secret and personal datum, and
//! its whole log is searched for them.

use crate::support::process::{self, Server};

#[tokio::test]
async fn no_personal_data_or_secret_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/leads.db", dir.path().display());
    let receiver = crate::support::receiver::Receiver::start("127.0.0.1").await;
    let ca = crate::support::receiver::tls()
        .ca_file
        .to_str()
        .unwrap()
        .to_string();
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("RUST_LOG", "trace"),
        ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
        ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"),
    ];

    let operator_email = "operator.person@example.org";
    let password = "correct horse battery staple";
    let user = process::run(
        &[
            "admin",
            "create-user",
            "--email",
            operator_email,
            "--password",
            password,
        ],
        &env,
    );
    assert!(user.status.success(), "{user:?}");
    let token_out = process::run(&["admin", "create-token", "--name", "ci"], &env);
    assert!(token_out.status.success());
    let token = String::from_utf8(token_out.stdout)
        .unwrap()
        .trim()
        .to_string();

    let server = Server::start(&env, dir.path());
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.base);
    let wrong_token = "lra_WrongTokenThatSomeoneGuessed0000000000";
    let source_token = "5f2b9c1e8a7d4f3b6c0e9a1d2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";
    let verify_token = "fb-verify-token-8d7s6a";
    let partner_key = "pk_PartnerKeyThatMustNotBeLogged01";
    let lead_email = "jane.doe@example.net";
    let lead_phone = "+4915112345678";
    let lead_name = "Janeczka Doebrowska";

    assert_eq!(
        client
            .get(url("/api/admin/markets"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(url("/api/admin/markets"))
            .bearer_auth(wrong_token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    client
        .post(url(&format!(
            "/api/webhook/{source_token}?email={lead_email}"
        )))
        .json(&serde_json::json!({"email": lead_email, "phone": lead_phone, "name": lead_name}))
        .send()
        .await
        .unwrap();
    client
        .get(url(&format!(
            "/api/facebook/{source_token}?hub.mode=subscribe&hub.verify_token={verify_token}&hub.challenge=42"
        )))
        .send()
        .await
        .unwrap();
    client
        .get(url("/api/lead/1/status"))
        .header("x-api-key", partner_key)
        .header("authorization", format!("Bearer {partner_key}"))
        .send()
        .await
        .unwrap();

    // Partners and sources: every secret they are issued or given.
    let admin_post = |path: String, body: serde_json::Value| {
        let req = client.post(url(&path)).bearer_auth(&token).json(&body);
        async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let partner_email = "integration.contact@fxpartners.com";
    let partner_auth_token = "partner-auth-bearer-7f7f7f";
    let created: serde_json::Value = admin_post(
        "/api/admin/partners".to_string(),
        serde_json::json!({
            "name": "FX Trading Partners Ltd", "email": partner_email, "country": "germany",
            "niche": "forex", "webhook_url": receiver.url("127.0.0.1", "/api/leads"),
            "auth": {"type": "bearer", "token": partner_auth_token}
        }),
    )
    .await;
    let api_key = created["api_key"]
        .as_str()
        .expect("partner created")
        .to_string();
    let signing_secret = created["signing_secret"].as_str().unwrap().to_string();
    let id = created["id"].as_i64().unwrap();
    let rotated: serde_json::Value = admin_post(
        format!("/api/admin/partners/{id}/rotate-key"),
        serde_json::json!({}),
    )
    .await;
    let rotated_key = rotated["api_key"].as_str().unwrap().to_string();
    let fb_secret = "fb-app-secret-value-1234";
    let fb_access = "EAABfbAccessToken5678";
    let source: serde_json::Value = admin_post(
        "/api/admin/sources".to_string(),
        serde_json::json!({"name": "FB", "kind": "facebook", "facebook":
            {"app_secret": fb_secret, "verify_token": verify_token, "access_token": fb_access}}),
    )
    .await;
    let issued_source_token = source["token"]
        .as_str()
        .expect("source created")
        .to_string();

    // A real lead, accepted, and one refused for a bad e-mail.
    let webhook: serde_json::Value = admin_post(
        "/api/admin/sources".to_string(),
        serde_json::json!({"name": "API", "kind": "webhook"}),
    )
    .await;
    let webhook_token = webhook["token"].as_str().unwrap().to_string();
    let accepted = client
        .post(url(&format!("/api/webhook/{webhook_token}")))
        .header("Idempotency-Key", "idem-key-secret-99")
        .json(
            &serde_json::json!({"email": lead_email, "phone": lead_phone, "name": lead_name,
            "country": "germany", "niche": "forex", "amount_lost": "31337qz"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let lead_id = accepted.json::<serde_json::Value>().await.unwrap()["lead_id"]
        .as_i64()
        .unwrap();
    let refused = client
        .post(url(&format!("/api/webhook/{webhook_token}")))
        .form(&[
            ("email", "broken-address@"),
            ("phone", lead_phone),
            ("country", "germany"),
            ("niche", "forex"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    // The accepted lead goes all the way to the partner, so delivery is logged too; the
    // partner then reports a conversion.
    crate::support::eventually("the lead delivered", || async {
        (!receiver.requests().is_empty()).then_some(())
    })
    .await;
    crate::support::eventually("the delivery recorded", || async {
        let l: serde_json::Value = client
            .get(url(&format!("/api/admin/leads/{lead_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (l["status"] == "delivered").then_some(())
    })
    .await;
    let conversion = client
        .post(url(&format!("/api/conversion/{id}")))
        .bearer_auth(&rotated_key)
        .json(
            &serde_json::json!({"lead_id": lead_id, "conversion_type": "deposit",
            "conversion_value": 250, "external_transaction_id": "tx-1"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(conversion.status(), 200);

    let (code, server_log) = server.terminate();
    assert_eq!(code, Some(0));
    // The log really was verbose: requests are in it (by route template).
    assert!(server_log.contains("/api/admin/markets"), "{server_log}");
    assert!(server_log.contains("request"), "{server_log}");
    assert!(server_log.contains("partner created"), "{server_log}");
    assert!(server_log.contains("lead rejected"), "{server_log}");
    assert!(server_log.contains("delivery attempt"), "{server_log}");
    // One correlation id, the lead's, on every line of its journey.
    let journey: Vec<&str> = server_log
        .lines()
        .filter(|l| l.contains(&format!("lead_id={lead_id}")))
        .collect();
    for step in [
        "lead stored",
        "lead assigned",
        "delivery attempt",
        "delivery recorded as delivered",
        "conversion reported",
    ] {
        assert!(
            journey.iter().any(|l| l.contains(step)),
            "{step} with lead_id={lead_id}:\n{}",
            journey.join("\n")
        );
    }

    let cli_log = format!(
        "{}{}",
        String::from_utf8_lossy(&user.stderr),
        String::from_utf8_lossy(&token_out.stderr)
    );
    assert!(cli_log.contains("admin user created"), "{cli_log}");
    let whole = format!("{cli_log}\n{server_log}");
    for secret in [
        operator_email,
        password,
        token.as_str(),
        &token[4..12],
        wrong_token,
        source_token,
        verify_token,
        partner_key,
        lead_email,
        lead_phone,
        "15112345678",
        lead_name,
        partner_email,
        partner_auth_token,
        &api_key,
        &rotated_key,
        &signing_secret,
        &signing_secret[6..20],
        fb_secret,
        fb_access,
        &issued_source_token,
        &webhook_token,
        "idem-key-secret-99",
        "broken-address",
        // (Not digits alone: a timestamp such as 11.313371 once contained "31337".)
        "31337qz",
    ] {
        assert!(
            !whole.contains(secret),
            "the log contains {secret:?}:\n{whole}"
        );
    }
}
