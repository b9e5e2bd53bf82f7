#pragma once

#include <string>

#include "events/envelope.hpp"

namespace soci {
class session;
}

namespace bazaar::events {

/// Records `(consumer, ce_id)` in the inbox inside the caller's transaction. Returns false
/// when the event was recorded before: a duplicate to acknowledge and skip.
bool record_in_inbox(soci::session& sql, const std::string& consumer, const Envelope& e,
                     const std::string& topic, int partition, long long offset);

}  // namespace bazaar::events
