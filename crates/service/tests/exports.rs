//! The download centre's files on a fresh SQLite file and a fresh
//! PostgreSQL database: kept in parts, shown as they stand, their owner's
//! alone, taken out after a week, requested in the ledger.

use pingan_service::testing::Db;
use pingan_service::{Caller, ServiceError, both, cap, exports};
use pingan_store::ExportStatus;

both!(
    an_export_is_kept_in_parts_and_only_its_owner_fetches_it,
    |store: &Db| {
        let store = store.clone();
        async move {
            let ctx = &store.ctx;
            let office = Caller::operator("office");
            let other = Caller::operator("other");
            let who = office.authorize::<cap::Scores>().unwrap();
            let id = exports::start(ctx, &who, "events", "events-99.xlsx", "year=2024")
                .await
                .unwrap();
            let f = exports::file(ctx, &office, id).await.unwrap();
            assert_eq!(f.status, ExportStatus::Running);
            assert_eq!((f.rows, f.size, f.title.as_str()), (0, 0, "events-99.xlsx"));
            exports::add_part(ctx, id, 0, b"PK\x03\x04", 10)
                .await
                .unwrap();
            exports::add_part(ctx, id, 1, &[7u8; 1000], 20)
                .await
                .unwrap();
            exports::end(ctx, id, 25, None).await.unwrap();
            let f = exports::file(ctx, &office, id).await.unwrap();
            assert_eq!(f.status, ExportStatus::Done);
            assert_eq!((f.rows, f.size), (25, 1004));
            assert_eq!(
                exports::part(ctx, &f, 0).await.unwrap().unwrap(),
                b"PK\x03\x04"
            );
            assert_eq!(
                exports::part(ctx, &f, 1).await.unwrap().unwrap(),
                [7u8; 1000]
            );
            assert_eq!(exports::part(ctx, &f, 2).await.unwrap(), None);
            // Another user neither sees nor fetches it.
            assert!(exports::list(ctx, &other).await.unwrap().is_empty());
            assert!(matches!(
                exports::file(ctx, &other, id).await,
                Err(ServiceError::NotFound(_))
            ));
            // A failure says why; one left running long ago was cut short.
            let bad = exports::start(ctx, &who, "events", "b.xlsx", "")
                .await
                .unwrap();
            exports::end(ctx, bad, 0, Some("磁盘已满")).await.unwrap();
            let old = exports::start(ctx, &who, "events", "c.xlsx", "")
                .await
                .unwrap();
            store
                .execute_raw(&format!(
                    "UPDATE exports SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = {old}"
                ))
                .await
                .unwrap();
            let all = exports::list(ctx, &office).await.unwrap();
            assert_eq!(all.iter().map(|f| f.id).collect::<Vec<_>>(), [old, bad, id]);
            assert_eq!(all[0].status, ExportStatus::Failed);
            assert!(
                all[0].error.as_deref().unwrap().contains("生成中断"),
                "{:?}",
                all[0]
            );
            assert_eq!(all[1].error.as_deref(), Some("磁盘已满"));
            // A week on, the next request takes the old files and their parts out.
            store
                .execute_raw("UPDATE exports SET created_at = '2000-01-01T00:00:00.000Z'")
                .await
                .unwrap();
            let new = exports::start(ctx, &who, "events", "d.xlsx", "")
                .await
                .unwrap();
            let left = exports::list(ctx, &office).await.unwrap();
            assert_eq!(left.iter().map(|f| f.id).collect::<Vec<_>>(), [new]);
            assert_eq!(
                store.execute_raw("DELETE FROM export_parts").await.unwrap(),
                0,
                "the parts went with their files"
            );
            // A person keeps their newest five files.
            let mut ids = vec![new];
            for k in 0..6 {
                ids.push(
                    exports::start(ctx, &who, "events", &format!("e{k}.xlsx"), "")
                        .await
                        .unwrap(),
                );
            }
            let left: Vec<i64> = exports::list(ctx, &office)
                .await
                .unwrap()
                .iter()
                .map(|f| f.id)
                .collect();
            assert_eq!(left, ids.iter().rev().take(5).copied().collect::<Vec<_>>());
            // Each request is in the ledger, which verifies.
            let v = store.audit_verify(None).await.unwrap();
            assert!(v.ok);
            let entries = store
                .audit_entries(
                    &pingan_store::AuditFilter {
                        action: Some("export".into()),
                        ..Default::default()
                    },
                    None,
                )
                .await
                .unwrap();
            assert_eq!(entries.len(), 10);
        }
    }
);
