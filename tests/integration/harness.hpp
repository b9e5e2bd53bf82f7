#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events/envelope.hpp"
#include "events/producer.hpp"
#include "events/uuid.hpp"

namespace soci {
class session;
}
namespace bazaar::events {
class Handler;
class SchemaRegistry;
}  // namespace bazaar::events

namespace bazaar::tests {

/// A setting the test run provides (scripts/test exports them); fails the test when absent.
std::string required_env(const char* name);

/// A name no earlier run used, so tests never see each other's topics or groups.
std::string unique_name(const std::string& base);

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
bool wait_until(std::chrono::milliseconds timeout, const std::function<bool()>& condition);

/// A fresh connection to the test database, migrated (platform + probe), with the outbox,
/// inbox and probe tables emptied.
std::unique_ptr<soci::session> clean_test_database();
/// A plain connection to the test database.
std::unique_ptr<soci::session> connect_test_database();
long long count(soci::session& sql, const std::string& query);

/// What a handler needs to apply records outside a Processor: the connection, the schemas its
/// events are checked against, and the factory and clock that stamp them.
struct HandlerBench {
  soci::session& sql;
  const events::SchemaRegistry& schemas;
  const events::EnvelopeFactory& factory;
  const events::Clock& clock;
};
/// An event about an order, keyed (its subject) by the `order_id` of `data`.
events::Envelope order_event(const events::EnvelopeFactory& factory, std::string type,
                             boost::json::object data);
/// `n` new ids.
std::vector<std::string> fresh_ids(events::UuidV7Generator& ids, int n);

/// Applies `records` as the Processor applies a batch: one transaction, begin(), lock_ahead(),
/// each record, before_commit(), the outbox; `while_open` runs once the locks are taken.
void apply_together(events::Handler& handler, const HandlerBench& bench,
                    const std::vector<events::Envelope>& records,
                    const std::function<void()>& while_open = {});
/// Applies `records` as the Processor applies one record: a transaction each.
void apply_one_by_one(events::Handler& handler, const HandlerBench& bench,
                      const std::vector<events::Envelope>& records);

/// Creates `name` with `partitions` partitions on the test broker.
void create_topic(const std::string& name, int partitions);

/// A Probe event: step `seq` of `key`'s sequence.
events::Envelope probe_event(events::EnvelopeFactory& factory, const std::string& key, int seq,
                             const std::string& fail = "none");
events::OutgoingRecord record_of(const std::string& topic, const events::Envelope& e);

/// One consumed record, as a test inspects it.
struct ConsumedRecord {
  std::string key;
  std::string value;
  events::Headers headers;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string header(const std::string& name) const;
};

/// Reads every partition of `topic` from the beginning until `expected` records arrived or
/// `timeout` passed, then keeps reading briefly for extra copies (which some tests count).
std::vector<ConsumedRecord> read_topic(const std::string& topic, std::size_t expected,
                                       std::chrono::milliseconds timeout);

/// A child process whose output goes to a log file; killed with SIGKILL if still running
/// when destroyed.
class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& extra_env, const std::string& log_path);
  ~ChildProcess();
  void signal(int sig);
  /// Waits for exit up to `timeout`; returns the exit code, or -1 when it did not exit.
  int wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

/// A loopback TCP port that was free a moment ago.
std::uint16_t free_port();

/// A blocking HTTP/1.1 GET on 127.0.0.1; returns the status code and body.
std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path);

}  // namespace bazaar::tests
