#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "render.hpp"
#include "selection.hpp"

namespace bazaar::ctl {

/// Exit codes of bazaarctl.
enum Exit : int {
  kOk = 0,
  kFound = 1,        ///< the command worked and found problems (audit violations, what-if diffs)
  kBadInput = 2,     ///< a malformed time or offset, an unknown topic or group
  kUnreachable = 3,  ///< the broker did not answer in time
  kRefused = 4,      ///< the operation is not safe now (a group with live members)
};

/// What every command gets: where the broker is, how long to wait for it, how to print.
struct Context {
  std::string brokers;
  std::chrono::milliseconds timeout{10'000};
  Output output = Output::table;
  std::ostream& out;
  std::ostream& err;
  const std::atomic<bool>* stop = nullptr;  ///< set by SIGINT/SIGTERM (--follow)
  int replication_factor = 1;               ///< of the topics it creates (redrive audit)
};

struct TailArgs {
  std::string topic;  ///< a topic or `all`
  Filter filter;
  bool from_beginning = false;
  std::optional<std::string> since;
  bool follow = false;
};
int tail(const Context& ctx, const TailArgs& args);

struct ExportArgs {
  std::string topic;  ///< a topic or `all`
  Filter filter;
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::string format = "jsonl";    ///< jsonl or csv
  std::optional<std::string> out;  ///< a file; standard output when absent
};
/// A slice of a topic as JSON Lines or CSV, for analysts who want files.
int export_records(const Context& ctx, const ExportArgs& args);

struct DlqArgs {
  std::optional<std::string> group;
  std::vector<std::string> offsets;  ///< `P:O` or `O` of dead letters
  std::optional<std::string> reason;
  std::optional<std::string> type;
  std::optional<std::string> since;
  bool dry_run = false;
  bool force = false;  ///< redrive again what was redriven before
};
int dlq_list(const Context& ctx, const DlqArgs& args);
int dlq_show(const Context& ctx, const DlqArgs& args);
int dlq_redrive(const Context& ctx, const DlqArgs& args);

struct ReplayArgs {
  std::string topic;
  std::optional<std::string> from_offset;
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::optional<std::string> type;
  std::string to;
  bool dry_run = false;
};
int replay(const Context& ctx, const ReplayArgs& args);

int saga_show(const Context& ctx, const std::string& order_id);

struct AuditArgs {
  std::optional<std::string> since;          ///< only records from then on (default: everything)
  std::chrono::milliseconds settle{60'000};  ///< younger orders may still be open
};
/// This build's saga over each order's recorded inputs, diffed against what was recorded;
/// kFound when some order would be treated differently.
int saga_whatif(const Context& ctx, const std::optional<std::string>& order_id,
                const std::optional<std::string>& since);

/// Every consumer group (or one) with its members and its lag per topic.
int lag(const Context& ctx, const std::optional<std::string>& group);
/// Resets a read model's consumer group to the beginning of its topics (every topic it has
/// committed on, or `topics`); refused while the group has live members.
int projection_rebuild(const Context& ctx, const std::string& group,
                       const std::vector<std::string>& topics);

/// Checks DESIGN.md's invariants from the *.events topics alone; kFound on any violation.
int audit(const Context& ctx, const AuditArgs& args);

}  // namespace bazaar::ctl
