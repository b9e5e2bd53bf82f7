#include "events/inbox.hpp"

#include <soci/soci.h>

#include "events/db.hpp"

namespace bazaar::events {
namespace {

const PreparedStatement kInsertInbox{"bazaar_inbox_insert", R"sql(
INSERT INTO inbox (consumer, ce_id, ce_type, topic, kafka_partition, kafka_offset)
VALUES ($1, CAST($2 AS uuid), $3, $4, CAST($5 AS int), CAST($6 AS bigint))
ON CONFLICT (consumer, ce_id) DO NOTHING
RETURNING 1)sql"};

}  // namespace

bool record_in_inbox(soci::session& sql, const std::string& consumer, const Envelope& e,
                     const std::string& topic, int partition, long long offset) {
  const std::string partition_text = std::to_string(partition);
  const std::string offset_text = std::to_string(offset);
  return kInsertInbox.run(sql, {&consumer, &e.id, &e.type, &topic, &partition_text, &offset_text}) >
         0;
}

}  // namespace bazaar::events
