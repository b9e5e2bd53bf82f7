#include "delivery_sender.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "events/db.hpp"
#include "events/envelope.hpp"

namespace bazaar::notification {
namespace {

// Pushing next_attempt_at forward is the lease: the rows stay PENDING, and if this sender
// dies they are due again once the lease ends. SKIP LOCKED lets instances claim side by side.
// `{table}` is the sink's table name (a constant of DeliveryTable, never input).
constexpr const char* kClaimDue = R"sql(
WITH due AS (
  SELECT notification_id FROM {table}
  WHERE status = 'PENDING' AND next_attempt_at <= CAST(:now AS timestamptz)
  ORDER BY next_attempt_at
  LIMIT :batch
  FOR UPDATE SKIP LOCKED)
UPDATE {table} AS d
SET next_attempt_at = CAST(:lease_until AS timestamptz)
FROM due
WHERE d.notification_id = due.notification_id
RETURNING CAST(d.notification_id AS text), d.attempts, CAST(d.payload AS text))sql";

// `attempts = :attempts_before` makes a late record (our lease ran out and another sender
// took the row) change nothing.
constexpr const char* kRecordAttempt = R"sql(
UPDATE {table}
SET status = :status, attempts = :attempts,
    next_attempt_at = CAST(:next_attempt_at AS timestamptz),
    last_error = NULLIF(:last_error, ''), updated_at = CAST(:updated_at AS timestamptz)
WHERE notification_id = CAST(:notification_id AS uuid) AND status = 'PENDING'
  AND attempts = :attempts_before)sql";

constexpr const char* kReleaseClaim = R"sql(
UPDATE {table} SET next_attempt_at = CAST(:now AS timestamptz)
WHERE notification_id = CAST(:notification_id AS uuid) AND status = 'PENDING'
  AND attempts = :attempts)sql";

std::string for_table(std::string sql, const DeliveryTable& table) {
  for (auto at = sql.find("{table}"); at != std::string::npos; at = sql.find("{table}")) {
    sql.replace(at, 7, table.name);
  }
  return sql;
}

}  // namespace

DeliverySender::DeliverySender(DeliveryTable table, const WebhookClient& client,
                               DeliveryPolicy policy, int batch)
    : table_(table),
      claim_sql_(for_table(kClaimDue, table)),
      record_sql_(for_table(kRecordAttempt, table)),
      release_sql_(for_table(kReleaseClaim, table)),
      client_(client),
      policy_(policy),
      batch_(batch),
      lease_(claim_lease(client.limits().timeout, batch)),
      pass_budget_(std::max(client.limits().timeout, std::chrono::milliseconds{2000})),
      random_(events::system_random()) {}

std::vector<DeliverySender::Claimed> DeliverySender::claim(events::TaskContext& ctx) {
  const auto now_tp = ctx.clock.now();
  const std::string now = events::format_rfc3339(now_tp);
  const std::string lease_until = events::format_rfc3339(now_tp + lease_);
  const auto n = static_cast<std::size_t>(batch_);
  std::vector<std::string> ids(n);
  std::vector<int> attempts(n);
  std::vector<std::string> payloads(n);
  soci::session& sql = ctx.db.session();
  soci::transaction tx(sql);
  sql << claim_sql_, soci::use(now, "now"), soci::use(batch_, "batch"),
      soci::use(lease_until, "lease_until"), soci::into(ids), soci::into(attempts),
      soci::into(payloads);
  tx.commit();
  std::vector<Claimed> out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out.push_back({std::move(ids[i]), attempts[i], std::move(payloads[i])});
  }
  return out;
}

void DeliverySender::record(events::TaskContext& ctx, const Claimed& row,
                            const PostOutcome& outcome) {
  const bool ok = outcome.error.empty() && accepted(outcome.status);
  const bool permanent = !ok && outcome.error.empty() && table_.permanent != nullptr &&
                         table_.permanent(outcome.status);
  const auto step = after_attempt(
      policy_, row.attempts, ok,
      [this] { return static_cast<double>(random_() >> 11) * 0x1.0p-53; }, outcome.retry_after,
      permanent);
  const auto now_tp = ctx.clock.now();
  const std::string status(to_string(step.status));
  const std::string next_attempt_at = events::format_rfc3339(now_tp + step.retry_in);
  const std::string last_error =
      ok ? std::string{}
         : (outcome.error.empty() ? "HTTP " + std::to_string(outcome.status) : outcome.error);
  const std::string updated_at = events::format_rfc3339(now_tp);
  const std::string& id = row.notification_id;
  ctx.db.session() << record_sql_, soci::use(status, "status"),
      soci::use(step.attempts, "attempts"), soci::use(next_attempt_at, "next_attempt_at"),
      soci::use(last_error, "last_error"), soci::use(updated_at, "updated_at"),
      soci::use(id, "notification_id"), soci::use(row.attempts, "attempts_before");

  if (step.status == DeliveryStatus::delivered) {
    spdlog::info("{} delivered notification_id={} attempts={}", table_.sink, id, step.attempts);
  } else if (step.status == DeliveryStatus::failed) {
    spdlog::error("{} delivery failed for good notification_id={} attempts={}: {}", table_.sink, id,
                  step.attempts, last_error);
  } else {
    spdlog::warn("{} delivery notification_id={} attempt {} failed: {}; retry in {} ms",
                 table_.sink, id, step.attempts, last_error, step.retry_in.count());
  }
}

void DeliverySender::release(events::TaskContext& ctx, const Claimed& row) {
  const std::string now = events::format_rfc3339(ctx.clock.now());
  ctx.db.session() << release_sql_, soci::use(now, "now"),
      soci::use(row.notification_id, "notification_id"), soci::use(row.attempts, "attempts");
}

void DeliverySender::run_once(events::TaskContext& ctx) {
  const auto until = std::chrono::steady_clock::now() + pass_budget_;
  bool full = true;
  while (full && std::chrono::steady_clock::now() < until) {
    const auto rows = claim(ctx);
    full = rows.size() == static_cast<std::size_t>(batch_);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (std::chrono::steady_clock::now() >= until) {
        // Out of time (a slow receiver): hand the rest back at once rather than sit on them
        // for the whole lease, and let the thread notice a stop.
        for (std::size_t j = i; j < rows.size(); ++j) release(ctx, rows[j]);
        return;
      }
      // No transaction is open here: a slow receiver must not hold locks or a connection's
      // transaction.
      const auto outcome = client_.post(rows[i].payload, rows[i].notification_id);
      record(ctx, rows[i], outcome);
    }
  }
}

}  // namespace bazaar::notification
