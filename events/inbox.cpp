#include "events/inbox.hpp"

#include <soci/soci.h>

#include <array>
#include <set>
#include <tuple>

#include "events/db.hpp"

namespace bazaar::events {
namespace {

const PreparedStatement kInsertInbox{"bazaar_inbox_insert", R"sql(
INSERT INTO inbox (consumer, ce_id, ce_type, topic, kafka_partition, kafka_offset)
VALUES ($1, CAST($2 AS uuid), $3, $4, CAST($5 AS int), CAST($6 AS bigint))
ON CONFLICT (consumer, ce_id) DO NOTHING
RETURNING 1)sql"};

// Returns where each new row came from: a record is identified by its place in the log, so
// the answer needs no id spelled the way the server spells it.
const PreparedStatement kInsertInboxRows{"bazaar_inbox_insert_rows", R"sql(
INSERT INTO inbox (consumer, ce_id, ce_type, topic, kafka_partition, kafka_offset)
SELECT $1, CAST(u.id AS uuid), u.type, u.topic, CAST(u.p AS int), CAST(u.o AS bigint)
FROM unnest(CAST($2 AS text[]), CAST($3 AS text[]), CAST($4 AS text[]), CAST($5 AS text[]),
            CAST($6 AS text[])) WITH ORDINALITY AS u(id, type, topic, p, o, n)
ORDER BY u.n
ON CONFLICT (consumer, ce_id) DO NOTHING
RETURNING topic, kafka_partition, kafka_offset)sql"};

}  // namespace

bool record_in_inbox(Transaction& tx, const std::string& consumer, const Envelope& e,
                     const std::string& topic, int partition, long long offset) {
  const std::string partition_text = std::to_string(partition);
  const std::string offset_text = std::to_string(offset);
  return kInsertInbox.run_first(
             tx, {&consumer, &e.id, &e.type, &topic, &partition_text, &offset_text}) > 0;
}

std::vector<bool> record_all_in_inbox(Transaction& tx, const std::string& consumer,
                                      const std::vector<InboxRecord>& records) {
  if (records.size() == 1) {
    const InboxRecord& r = records.front();
    return {record_in_inbox(tx, consumer, *r.event, r.topic, r.partition, r.offset)};
  }
  std::vector<std::string> ids, types, topics, partitions, offsets;
  for (const InboxRecord& r : records) {
    ids.push_back(r.event->id);
    types.push_back(r.event->type);
    topics.push_back(r.topic);
    partitions.push_back(std::to_string(r.partition));
    offsets.push_back(std::to_string(r.offset));
  }
  const std::array<std::string, 5> arrays{pg_text_array(ids), pg_text_array(types),
                                          pg_text_array(topics), pg_text_array(partitions),
                                          pg_text_array(offsets)};
  const PreparedRows rows = kInsertInboxRows.query_first(
      tx, {&consumer, &arrays[0], &arrays[1], &arrays[2], &arrays[3], &arrays[4]});
  std::set<std::tuple<std::string, long long, long long>> inserted;
  for (int i = 0; i < rows.size(); ++i) {
    inserted.emplace(rows.text(i, 0), rows.integer(i, 1), rows.integer(i, 2));
  }
  std::vector<bool> fresh;
  fresh.reserve(records.size());
  for (const InboxRecord& r : records) {
    fresh.push_back(inserted.erase({r.topic, r.partition, r.offset}) > 0);  // once, at most
  }
  return fresh;
}

}  // namespace bazaar::events
