#include "events/inbox.hpp"

#include <soci/soci.h>

namespace bazaar::events {
namespace {

constexpr const char* kInsertInbox = R"sql(
INSERT INTO inbox (consumer, ce_id, ce_type, topic, kafka_partition, kafka_offset)
VALUES (:consumer, CAST(:id AS uuid), :type, :topic, :partition, :offset)
ON CONFLICT (consumer, ce_id) DO NOTHING
RETURNING 1)sql";

}  // namespace

bool record_in_inbox(soci::session& sql, const std::string& consumer, const Envelope& e,
                     const std::string& topic, int partition, long long offset) {
  // A one-time query is one round trip; a prepared statement would cost three here.
  int inserted = 0;
  sql << kInsertInbox, soci::use(consumer, "consumer"), soci::use(e.id, "id"),
      soci::use(e.type, "type"), soci::use(topic, "topic"), soci::use(partition, "partition"),
      soci::use(offset, "offset"), soci::into(inserted);
  return sql.got_data();
}

}  // namespace bazaar::events
