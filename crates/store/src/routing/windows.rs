//! Counting reservations in partners' windows (caps beside the daily limit, budgets): the
//! rows made where missing, then one guarded update for every (partner, window) of the
//! reservation, in the caller's transaction. All of them fit, or the caller drops the
//! transaction: no cap and no budget is ever passed.

use crate::many::{Marks, Statement, CHUNK};
use crate::{Backend, Store, StoreError};
use leadrouter_core::windows::{window_of_key, Charge, Use, Used};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// What one lead costs its partner, read in the statement that charges it (the same the
/// delivery records as its price).
const PRICE: &str = "COALESCE((SELECT price_per_lead_cents FROM partners WHERE id = v.column1), 0)";

/// The statements that count `leads` leads per (partner, window): rows where missing,
/// then one update, guarded by each window's cap and budget unless `override_limits` (an
/// operator's manual assignment). Returns them with how many rows the update must change.
pub(crate) fn charge_statements(
    backend: Backend,
    charges: &[(i64, &Charge, i64)],
    override_limits: bool,
) -> (Vec<Statement>, Statement, usize) {
    let mut rows: BTreeMap<(i64, &str), (i64, &Charge)> = BTreeMap::new();
    for (partner_id, charge, leads) in charges {
        rows.entry((*partner_id, charge.key.as_str()))
            .or_insert((0, charge))
            .0 += leads;
    }
    // Rows not known to exist are made first (an hour's first lead, say).
    let keys: Vec<(i64, &str)> = rows
        .iter()
        .filter(|(_, (_, c))| !c.stored)
        .map(|(k, _)| *k)
        .collect();
    let create = keys
        .chunks(CHUNK)
        .map(|chunk| {
            let mut st = Statement::new(format!(
                "INSERT INTO partner_window_counts (partner_id, window_key, leads, spent_cents) \
                 SELECT column1, column2, 0, 0 FROM (VALUES {}) AS v WHERE TRUE \
                 ON CONFLICT DO NOTHING",
                Marks::new(backend).tuples(chunk.len(), 2)
            ));
            for (partner_id, key) in chunk {
                st.bind(*partner_id).bind(*key);
            }
            st
        })
        .collect();
    let mut update = Statement::new(format!(
        "UPDATE partner_window_counts SET leads = leads + v.column3, \
         spent_cents = spent_cents + v.column3 * {PRICE} FROM (VALUES {}) AS v \
         WHERE partner_window_counts.partner_id = v.column1 \
         AND partner_window_counts.window_key = v.column2 \
         AND leads + v.column3 <= v.column4 AND spent_cents + v.column3 * {PRICE} <= v.column5",
        Marks::new(backend).tuples(rows.len(), 5)
    ));
    for ((partner_id, key), (leads, charge)) in &rows {
        let unguarded = override_limits;
        update
            .bind(*partner_id)
            .bind(*key)
            .bind(*leads)
            .bind(match charge.cap {
                Some(cap) if !unguarded => i64::from(cap),
                _ => i64::MAX,
            })
            .bind(match charge.budget_cents {
                Some(b) if !unguarded => b,
                _ => i64::MAX,
            });
    }
    (create, update, rows.len())
}

/// Counts the reservations in their windows inside the caller's transaction; whether all
/// fitted (if not, the caller must not commit).
pub(crate) async fn charge(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    charges: &[(i64, &Charge, i64)],
    override_limits: bool,
) -> Result<bool, StoreError> {
    if charges.is_empty() {
        return Ok(true);
    }
    let (mut statements, update, expected) = charge_statements(backend, charges, override_limits);
    statements.push(update);
    let done = crate::many::run(conn, backend, &statements).await?;
    Ok(done.last().map_or(0, |d| d.affected) == expected as u64)
}

/// The keys of `charges` as a delivery records them (space-separated).
pub(crate) fn keys_text(charges: &[Charge]) -> String {
    charges
        .iter()
        .map(|c| c.key.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Gives a delivery's lead back to the windows it was counted in (`keys` as recorded),
/// with the money it was charged.
pub(crate) async fn give_back(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    partner_id: i64,
    keys: &str,
    price_cents: Option<i64>,
) -> Result<(), StoreError> {
    let keys: Vec<&str> = keys.split_whitespace().collect();
    if keys.is_empty() {
        return Ok(());
    }
    let mut m = Marks::new(backend);
    let sql = format!(
        "UPDATE partner_window_counts SET leads = leads - 1, spent_cents = spent_cents - {} \
         WHERE partner_id = {} AND leads > 0 AND window_key IN ({})",
        m.next(),
        m.next(),
        m.list(keys.len())
    );
    let mut q = sqlx::query(&sql)
        .bind(price_cents.unwrap_or(0))
        .bind(partner_id);
    for k in keys {
        q = q.bind(k);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

impl Store {
    /// What each partner's windows have taken, for the given (partner, window keys).
    pub async fn window_use(
        &self,
        keys: &[(i64, Vec<String>)],
    ) -> Result<HashMap<i64, Used>, StoreError> {
        let mut out: HashMap<i64, Used> = HashMap::new();
        let pairs: Vec<(i64, &str)> = keys
            .iter()
            .flat_map(|(id, ks)| ks.iter().map(move |k| (*id, k.as_str())))
            .collect();
        for chunk in pairs.chunks(CHUNK) {
            let mut m = Marks::new(self.backend());
            let conditions: Vec<String> = chunk
                .iter()
                .map(|_| format!("(partner_id = {} AND window_key = {})", m.next(), m.next()))
                .collect();
            let sql = format!(
                "SELECT partner_id, window_key, leads, spent_cents FROM partner_window_counts \
                 WHERE {}",
                conditions.join(" OR ")
            );
            let mut q = sqlx::query(&sql);
            for (id, key) in chunk {
                q = q.bind(*id).bind(*key);
            }
            for r in q.fetch_all(self.reader()).await? {
                let key: String = r.try_get("window_key")?;
                let Some(w) = window_of_key(&key) else {
                    continue;
                };
                out.entry(r.try_get("partner_id")?).or_default().set(
                    w,
                    Use {
                        leads: r.try_get("leads")?,
                        spent_cents: r.try_get("spent_cents")?,
                        stored: true,
                    },
                );
            }
        }
        Ok(out)
    }
}
