//! `leadrouter leads import` as an operator runs it, on both backends.

use crate::support::process;
use crate::support::TestApp;
use serde_json::json;

const CSV: &str = "\
first_name,last_name,email,phone,country,niche,amount_lost,external_id
Anna,Berg,anna@example.de,0151 12345678,germany,forex,,row-1
Luis,Gil,not-an-email,612 34 56 78,ES,recovery,25000,row-2
Ola,Nordmann,ola@example.no,412 34 567,Norge,forex,,row-3
Zed,Unknown,zed@example.com,,atlantis,forex,,row-4
Anna,Berg,ANNA@example.de,,de,forex,,row-5
Sofia,Rossi,sofia@example.it,312 345 6789,italy,recovery,9000,row-6
";

both_backends! {
    async fn a_csv_file_is_imported_with_bad_rows_reported_by_line(db) {
        let url = db.url.expose().to_string();
        let app = TestApp::spawn(db).await;
        let (source_id, _) = app.source(json!({"name": "Import", "kind": "webhook", "source_label": "csv"})).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("leads.csv");
        std::fs::write(&file, CSV).unwrap();
        let file = file.to_str().unwrap();
        let env = [("DATABASE_URL", url.as_str())];
        let sid = source_id.to_string();

        let out = process::run(&["leads", "import", file, "--source-id", &sid], &env);
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout,
            "imported: 3\nduplicates: 1\nalready present: 0\nrejected: 2\n\
             \x20 line 3: email: is not a valid e-mail address\n\
             \x20 line 5: country: unknown country \"atlantis\" (known: austria, canada, germany, italy, norway, spain, uk)\n"
        );
        let (_, leads) = app.get("/api/admin/leads").await;
        let leads = leads["leads"].as_array().unwrap().clone();
        assert_eq!(leads.len(), 4);
        let sofia = &leads[0];
        assert_eq!((sofia["phone"].as_str(), sofia["country"].as_str()), (Some("+393123456789"), Some("italy")));
        assert_eq!(sofia["custom_fields"], json!({"amount_lost": "9000"}));
        assert_eq!(sofia["source"], "csv");
        assert_eq!(leads[1]["status"], "duplicate");
        assert_eq!(leads[2]["country"], "norway");
        let (_, rejected) = app.get("/api/admin/rejected-submissions").await;
        assert_eq!(rejected["rejected_submissions"].as_array().unwrap().len(), 2);

        // Importing the same file again creates nothing new: rows carry external ids.
        let out = process::run(&["leads", "import", file, "--source-id", &sid], &env);
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.starts_with("imported: 0\nduplicates: 0\nalready present: 4\n"), "{stdout}");
        assert_eq!(app.get("/api/admin/leads").await.1["leads"].as_array().unwrap().len(), 4);
        app.stop().await;
    }
}

both_backends! {
    async fn an_import_without_a_source_or_file_is_a_clear_error(db) {
        let url = db.url.expose().to_string();
        let env = [("DATABASE_URL", url.as_str())];
        let out = process::run(&["leads", "import", "/nonexistent/leads.csv", "--source-id", "1"], &env);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(stderr.contains("error: --source-id: there is no source 1"), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
}
