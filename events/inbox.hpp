#pragma once

#include <string>
#include <vector>

#include "events/envelope.hpp"

namespace bazaar::events {

class Transaction;

/// Records `(consumer, ce_id)` in the inbox as the first statement of `tx` (its BEGIN goes out
/// with it). Returns false when the event was recorded before: a duplicate to acknowledge and
/// skip.
bool record_in_inbox(Transaction& tx, const std::string& consumer, const Envelope& e,
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
std::vector<bool> record_all_in_inbox(Transaction& tx, const std::string& consumer,
                                      const std::vector<InboxRecord>& records);

}  // namespace bazaar::events
