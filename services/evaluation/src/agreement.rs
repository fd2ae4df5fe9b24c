//! Judge-job metrics: once every item of a job is judged (or failed), the agreement of the critic's
//! verdicts with the items' labels (`critic::agreement`), plus counts and the verdict distribution.
//! Stored on the job, which then completes; a redelivery finds it completed and changes nothing.

use critic::agreement::{self, JudgedPair, ScoredItem};
use critic::metrics::Bootstrap;
use critic::{Parsed, Preference, Verdict};
use protocol::{AgreementTask, JudgeItem, Label, LabelPreference, Task};
use serde_json::{Value, json};
use store::judge_jobs::MetricRow;
use tracing::Instrument;
use worker::{Disposition, Handler, Incoming, Runtime};

pub struct AgreementHandler {
    pub rt: Runtime,
}

impl Handler for AgreementHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let worker::Decoded { messages, dispositions: mut out } = worker::Decoded::<AgreementTask>::of(batch);
        for (n, task, span) in &messages {
            out[*n] = Some(self.score(task).instrument(span.clone()).await?);
        }
        Ok(worker::settled(out))
    }
}

impl AgreementHandler {
    async fn score(&self, task: &AgreementTask) -> anyhow::Result<Disposition> {
        let mut conn = self.rt.pool.acquire().await?;
        let Some(job) = store::judge_jobs::get(&mut conn, task.job_id).await? else {
            let error = format!("judge job {} does not exist", task.job_id);
            return Ok(Disposition::Reject { task: Some(Task::Agreement(task.clone())), error });
        };
        if job.state != "scoring" {
            return Ok(Disposition::Ack); // scored by an earlier delivery, or cancelled
        }
        let rows = store::judge_jobs::metric_rows(&mut conn, task.job_id).await?;
        drop(conn);
        let metrics = tokio::task::spawn_blocking(move || job_metrics(&rows, &Bootstrap::default())).await??;
        let mut tx = self.rt.pool.begin().await?;
        store::judge_jobs::set_metrics(&mut tx, task.job_id, &metrics).await?;
        tx.commit().await?;
        tracing::info!(job = %task.job_id, "judge job scored");
        Ok(Disposition::Ack)
    }
}

fn preference(label: LabelPreference) -> Preference {
    match label {
        LabelPreference::First => Preference::First,
        LabelPreference::Second => Preference::Second,
        LabelPreference::Tie => Preference::Tie,
    }
}

/// Every metric of a job's items: counts, the verdict distribution, and agreement with the labels
/// of the pairwise and of the pointwise items (each where any item has a label).
pub fn job_metrics(rows: &[MetricRow], bootstrap: &Bootstrap) -> anyhow::Result<Value> {
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let item: JudgeItem = serde_json::from_value(row.item.clone())?;
        let parsed: Option<Parsed> = row.verdict.clone().map(serde_json::from_value).transpose()?;
        items.push((item, parsed, row.error.is_some()));
    }
    let (mut failed, mut unparsed) = (0, 0);
    let (mut first, mut second, mut tie) = (0, 0, 0);
    let (mut pairs, mut scored) = (Vec::new(), Vec::new());
    let (mut pairwise_items, mut pointwise_items, mut scores) = (0, 0, Vec::new());
    for (item, parsed, is_failed) in &items {
        if *is_failed {
            failed += 1;
            continue; // a failed critic call is not a judgment: left out of agreement
        }
        let verdict: Option<&Verdict> = parsed.as_ref().and_then(Parsed::verdict);
        if verdict.is_none() {
            unparsed += 1;
        }
        if item.is_pairwise() {
            pairwise_items += 1;
            let prediction = verdict.and_then(Verdict::preference);
            match prediction {
                Some(Preference::First) => first += 1,
                Some(Preference::Second) => second += 1,
                Some(Preference::Tie) => tie += 1,
                None => {}
            }
            if let Some(Label::Preference(label)) = &item.label {
                let models = item.models.as_ref().map(|m| (m[0].as_str(), m[1].as_str()));
                pairs.push(JudgedPair { prediction, label: preference(*label), models });
            }
        } else {
            pointwise_items += 1;
            let score = match verdict {
                Some(Verdict::Score { value }) => Some(*value),
                _ => None,
            };
            scores.extend(score);
            if let Some(Label::Score(label)) = &item.label {
                let model = item.models.as_ref().map(|m| m[0].as_str());
                scored.push(ScoredItem { score, label: *label, model });
            }
        }
    }
    let mut report = json!({
        "items": rows.len(), "failed": failed, "unparsed": unparsed,
        "pairwise_items": pairwise_items, "pointwise_items": pointwise_items,
    });
    if pairwise_items > 0 {
        report["verdicts"] = json!({ "first": first, "second": second, "tie": tie });
    }
    if !scores.is_empty() {
        report["mean_score"] = json!(scores.iter().sum::<f64>() / scores.len() as f64);
    }
    if !pairs.is_empty() {
        report["pairwise"] = agreement::pairwise_report(&pairs, bootstrap);
    }
    if !scored.is_empty() {
        report["pointwise"] = agreement::pointwise_report(&scored);
    }
    Ok(report)
}
