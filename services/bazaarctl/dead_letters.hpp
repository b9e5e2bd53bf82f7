#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "events/producer.hpp"
#include "record.hpp"

namespace bazaar::ctl {

/// The audit topic of a dead-letter topic: each redrive is recorded there.
std::string redrive_topic(const std::string& group);

/// A record of a dead-letter topic, with what the Processor said about it.
struct DeadLetter {
  Record record;
  std::string group;
  std::string reason;  ///< undecodable, schema_violation, rejected, handler_error
  std::string error;
  std::string original_topic;
  std::int32_t original_partition = 0;
  std::int64_t original_offset = 0;
  std::string failed_at;
  bool payload_omitted = false;  ///< too large: the payload is on the original topic only
};

/// The dead letter a DLQ record is, or nullopt when it lacks the dead-letter headers.
std::optional<DeadLetter> dead_letter_of(const Record& r);

/// Dead letters of one group that failed for one reason with one error, like a failure group
/// of a service bus: how many, when first and last, how many of them were redriven.
struct FailureGroup {
  std::string group;
  std::string reason;
  std::string error;
  std::size_t count = 0;
  std::size_t redriven = 0;
  std::string first_seen;
  std::string last_seen;
  std::string example;  ///< where() of the first one
};
/// Groups `letters`; `redriven` holds where() of every dead letter already redriven.
std::vector<FailureGroup> group_failures(const std::vector<DeadLetter>& letters,
                                         const std::set<std::string>& redriven);

/// The record that puts a dead letter back on its original topic: its original key, value
/// and headers (the dead-letter ones removed), plus `bazaar_redriven_from` naming the dead
/// letter. `value` replaces the payload (fetched from the original topic when it was omitted).
events::OutgoingRecord redrive_record(const DeadLetter& letter, const std::string& value,
                                      const std::string& now);
/// The audit record of one redrive, on redrive_topic(group), keyed by the dead letter's where().
events::OutgoingRecord redrive_audit_record(const DeadLetter& letter, const std::string& now);
/// The where() of the dead letter an audit record names, or empty.
std::string redriven_dead_letter(const Record& audit);

}  // namespace bazaar::ctl
