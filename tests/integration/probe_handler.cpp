#include "probe_handler.hpp"

#include <soci/soci.h>

#include <boost/json/value.hpp>

namespace bazaar::tests {
namespace {

constexpr const char* kInsertApplied = R"sql(
INSERT INTO probe_applied (consumer, ce_id, key, seq)
VALUES (:consumer, CAST(:id AS uuid), :key, :seq))sql";

}  // namespace

void ProbeHandler::apply(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  if (const auto* fail = data.if_contains("fail"); fail != nullptr && *fail == "permanent") {
    throw events::PermanentError("probe asked to fail permanently");
  }
  if (const auto* fail = data.if_contains("fail");
      fail != nullptr && *fail == "bug" && bug_present) {
    throw events::PermanentError("probe hit its bug");
  }
  if (const auto* fail = data.if_contains("fail");
      fail != nullptr && *fail == "transient_briefly") {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    const auto first = first_seen_.try_emplace(ctx.event.id, now).first->second;
    if (now - first < std::chrono::milliseconds{500}) {
      throw events::TransientError("probe asked to fail for a while");
    }
  }
  std::string consumer = consumer_;
  std::string id = ctx.event.id;
  std::string key(data.at("key").as_string());
  int seq = static_cast<int>(data.at("seq").as_int64());
  ctx.sql << kInsertApplied, soci::use(consumer), soci::use(id), soci::use(key), soci::use(seq);
  ctx.after_commit([this] { effects_.fetch_add(1); });
}

}  // namespace bazaar::tests
