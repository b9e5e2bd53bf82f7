#include "delivery_sender.hpp"

#include <spdlog/spdlog.h>

#include "events/db.hpp"
#include "events/envelope.hpp"

namespace bazaar::notification {
namespace {

// Each statement runs for every pass or every delivery, so it is prepared once per connection
// (events::PreparedStatement), under a name of its table's.

// Pushing next_attempt_at forward is the lease: the rows stay PENDING, and if this sender
// dies they are due again once the lease ends. SKIP LOCKED lets instances claim side by side.
// `{table}` is the sink's table name (a constant of DeliveryTable, never input).
constexpr const char* kClaimDue = R"sql(
WITH due AS (
  SELECT notification_id FROM {table}
  WHERE status = 'PENDING' AND next_attempt_at <= CAST($1 AS timestamptz)
  ORDER BY next_attempt_at
  LIMIT CAST($2 AS integer)
  FOR UPDATE SKIP LOCKED)
UPDATE {table} AS d
SET next_attempt_at = CAST($3 AS timestamptz)
FROM due
WHERE d.notification_id = due.notification_id
RETURNING CAST(d.notification_id AS text), d.attempts, CAST(d.payload AS text))sql";

// `attempts = $7` (the attempts before) makes a late record (our lease ran out and another sender
// took the row) change nothing, and so does the payload posted ($8) when the row was given
// another since (a chat bound meanwhile): it stays due for its new payload when the claim ends.
constexpr const char* kRecordAttempt = R"sql(
UPDATE {table}
SET status = $1, attempts = CAST($2 AS integer), next_attempt_at = CAST($3 AS timestamptz),
    last_error = NULLIF($4, ''), updated_at = CAST($5 AS timestamptz)
WHERE notification_id = CAST($6 AS uuid) AND status = 'PENDING'
  AND attempts = CAST($7 AS integer) AND payload = CAST($8 AS jsonb)
RETURNING 1)sql";

constexpr const char* kReleaseClaim = R"sql(
UPDATE {table} SET next_attempt_at = CAST($1 AS timestamptz)
WHERE notification_id = CAST($2 AS uuid) AND status = 'PENDING'
  AND attempts = CAST($3 AS integer))sql";

events::PreparedStatement for_table(const char* what, std::string sql, const DeliveryTable& table) {
  for (auto at = sql.find("{table}"); at != std::string::npos; at = sql.find("{table}")) {
    sql.replace(at, 7, table.name);
  }
  return {std::string(table.name) + "_" + what, std::move(sql)};
}

}  // namespace

DeliverySender::DeliverySender(DeliveryTable table, const WebhookClient& client,
                               DeliveryPolicy policy, int batch)
    : table_(table),
      claim_(for_table("claim", kClaimDue, table)),
      record_(for_table("record", kRecordAttempt, table)),
      release_(for_table("release", kReleaseClaim, table)),
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
  const std::string batch = std::to_string(batch_);
  // One statement, so its own transaction: the claimed rows are leased once it returns.
  const events::PreparedRows rows = claim_.query(ctx.db.session(), {&now, &batch, &lease_until});
  std::vector<Claimed> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back({rows.text(i, 0), static_cast<int>(rows.integer(i, 1)), rows.text(i, 2)});
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
  const std::string attempts = std::to_string(step.attempts);
  const std::string attempts_before = std::to_string(row.attempts);
  const int recorded =
      record_.run(ctx.db.session(), {&status, &attempts, &next_attempt_at, &last_error, &updated_at,
                                     &id, &attempts_before, &row.payload});
  if (recorded == 0) {
    spdlog::info("{} delivery notification_id={} changed while it was posted; not recorded",
                 table_.sink, id);
    return;
  }

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
  const std::string attempts = std::to_string(row.attempts);
  release_.run(ctx.db.session(), {&now, &row.notification_id, &attempts});
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
