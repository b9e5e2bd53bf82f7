#pragma once

#include <string>
#include <vector>

#include "events/envelope.hpp"

namespace soci {
class session;
}

namespace bazaar::events {

/// Records `(consumer, ce_id)` in the inbox inside the caller's transaction. Returns false
/// when the event was recorded before: a duplicate to acknowledge and skip.
bool record_in_inbox(soci::session& sql, const std::string& consumer, const Envelope& e,
                     const std::string& topic, int partition, long long offset);

/// Where a consumed event came from, for record_all_in_inbox().
struct InboxRecord {
  const Envelope* event;
  std::string topic;
  int partition;
  long long offset;
};

/// record_in_inbox() for a whole batch in one statement: for each record, whether it is new.
/// Of two records of the batch with the same id, only the first is.
std::vector<bool> record_all_in_inbox(soci::session& sql, const std::string& consumer,
                                      const std::vector<InboxRecord>& records);

}  // namespace bazaar::events
