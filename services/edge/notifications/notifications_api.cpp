#include "notifications/notifications_api.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <tuple>

#include "catalog/product_search.hpp"
#include "events/envelope.hpp"
#include "http/cursor.hpp"
#include "http/problem.hpp"
#include "notifications/notification_projection.hpp"

namespace bazaar::edge {
namespace {

// The cursor's sort tag: a product cursor is not a notification cursor.
constexpr const char* kSortTag = "notifications";

// Newest first; the key is created_at in epoch microseconds (exact: extract gives numeric).
constexpr const char* kFirstPage = R"sql(
SELECT CAST(notification_id AS text), kind, COALESCE(CAST(order_id AS text), ''), title, body,
       CAST(floor(extract(epoch FROM created_at) * 1000) AS bigint),
       CAST(CAST(extract(epoch FROM created_at) * 1000000 AS bigint) AS text)
FROM notifications_view
WHERE recipient_id = CAST(:recipient_id AS uuid)
ORDER BY created_at DESC, notification_id DESC
LIMIT CAST(:row_limit AS integer))sql";

constexpr const char* kNextPage = R"sql(
SELECT CAST(notification_id AS text), kind, COALESCE(CAST(order_id AS text), ''), title, body,
       CAST(floor(extract(epoch FROM created_at) * 1000) AS bigint),
       CAST(CAST(extract(epoch FROM created_at) * 1000000 AS bigint) AS text)
FROM notifications_view
WHERE recipient_id = CAST(:recipient_id AS uuid)
  AND (created_at, notification_id) <
      (timestamptz 'epoch' + CAST(:after_seconds AS bigint) * interval '1 second' +
         CAST(:after_micros AS bigint) * interval '1 microsecond',
       CAST(:after_id AS uuid))
ORDER BY created_at DESC, notification_id DESC
LIMIT CAST(:row_limit AS integer))sql";

struct Row {
  std::string id;
  std::string kind;
  std::string order_id;
  std::string title;
  std::string body;
  long long created_ms = 0;
  std::string key;
};

HttpResponse list(ApiContext& api, const RequestContext& c) {
  const auto limit = parse_limit(c.request.param("limit"));
  if (!limit) {
    return problem(422, "Unprocessable Content",
                   "limit must be an integer from 1 to " + std::to_string(kMaxPageSize),
                   {{"limit", "must be an integer from 1 to " + std::to_string(kMaxPageSize)}});
  }
  const std::string scope = cursor_scope(kSortTag, {c.principal->user_id});
  std::optional<Cursor> after;
  if (const auto text = c.request.param("cursor"); text && !text->empty()) {
    after = decode_cursor(*text, scope);
    if (!after || after->sort != kSortTag || !is_integer_key(after->key)) {
      return problem(400, "Bad Request", "cursor is not a next_cursor of this listing",
                     {{"cursor", "is not a next_cursor of this listing"}});
    }
  }
  const std::string row_limit = std::to_string(*limit + 1);
  std::string after_seconds;
  std::string after_micros;
  if (after) std::tie(after_seconds, after_micros) = split_micros(after->key);
  std::vector<Row> rows;
  api.db.read([&](soci::session& sql) {
    rows.clear();
    Row r;
    soci::statement st =
        after
            ? (sql.prepare << kNextPage, soci::into(r.id), soci::into(r.kind),
               soci::into(r.order_id), soci::into(r.title), soci::into(r.body),
               soci::into(r.created_ms), soci::into(r.key),
               soci::use(c.principal->user_id, "recipient_id"),
               soci::use(after_seconds, "after_seconds"), soci::use(after_micros, "after_micros"),
               soci::use(after->id, "after_id"), soci::use(row_limit, "row_limit"))
            : (sql.prepare << kFirstPage, soci::into(r.id), soci::into(r.kind),
               soci::into(r.order_id), soci::into(r.title), soci::into(r.body),
               soci::into(r.created_ms), soci::into(r.key),
               soci::use(c.principal->user_id, "recipient_id"), soci::use(row_limit, "row_limit"));
    st.execute(false);
    while (st.fetch()) rows.push_back(r);
  });
  boost::json::value next = nullptr;
  if (rows.size() > static_cast<std::size_t>(*limit)) {
    rows.resize(static_cast<std::size_t>(*limit));
    next = boost::json::value(encode_cursor({kSortTag, rows.back().key, rows.back().id}, scope));
  }
  boost::json::array items;
  for (const auto& r : rows) {
    const events::Clock::time_point created{std::chrono::milliseconds{r.created_ms}};
    items.push_back(notification_json(r.id, r.kind, r.order_id, r.title, r.body,
                                      events::format_rfc3339(created)));
  }
  return json_response(200, boost::json::serialize(boost::json::object{{"items", std::move(items)},
                                                                       {"next_cursor", next}}));
}

}  // namespace

void register_notification_routes(Router& router, ApiContext& api) {
  router.add("GET", "/notifications", Access::kSignedIn,
             [&api](const RequestContext& c) { return list(api, c); });
}

}  // namespace bazaar::edge
