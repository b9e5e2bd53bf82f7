#include "catalog/products_api.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>

#include "catalog/money.hpp"
#include "catalog/product_search.hpp"
#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "events/uuid.hpp"
#include "http/problem.hpp"
#include "http/request_body.hpp"

namespace bazaar::edge {
namespace {

namespace cat = contracts::catalog;
using contracts::topic::kCatalogCommands;
using contracts::topic::kInventoryCommands;

// The schema's bound on initial and adjusted stock.
constexpr std::int64_t kMaxStock = 100'000'000;

constexpr const char* kSelectProduct = R"sql(
SELECT CAST(product_id AS text), CAST(seller_id AS text), name, description, price, currency,
       category, stock, CAST(floor(extract(epoch FROM created_at) * 1000) AS bigint)
FROM products_view
WHERE product_id = CAST(:product_id AS uuid) AND status = 'active')sql";

// Locks the row so that two writes to one product build on each other.
constexpr const char* kSelectProductForUpdate = R"sql(
SELECT CAST(product_id AS text), CAST(seller_id AS text), name, description, price, currency,
       category, stock, CAST(floor(extract(epoch FROM created_at) * 1000) AS bigint)
FROM products_view
WHERE product_id = CAST(:product_id AS uuid) AND status = 'active'
FOR UPDATE)sql";

constexpr const char* kInsertProduct = R"sql(
INSERT INTO products_view (product_id, seller_id, name, description, price, currency, category,
                           stock, status, created_at, updated_at, awaiting_command,
                           awaiting_since)
VALUES (CAST(:product_id AS uuid), CAST(:seller_id AS uuid), :name, :description, :price,
        :currency, :category, :stock, 'active', CAST(:created_at AS timestamptz),
        CAST(:updated_at AS timestamptz), CAST(:command AS uuid), now()))sql";

// The row remembers the command, so no older catalog event undoes this write (migration 012).
constexpr const char* kUpdateProductRow = R"sql(
UPDATE products_view
SET name = :name, description = :description, price = :price, category = :category,
    awaiting_command = CAST(:command AS uuid), awaiting_since = now(), updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

constexpr const char* kSetStock = R"sql(
UPDATE products_view
SET stock = :stock, awaiting_stock_command = CAST(:command AS uuid), awaiting_stock_since = now(),
    updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

constexpr const char* kMarkDeleted = R"sql(
UPDATE products_view SET status = 'deleted', updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

// Whom an admin may list a product for: an enabled seller or admin.
constexpr const char* kSellerRole = R"sql(
SELECT role FROM users
WHERE user_id = CAST(:user_id AS uuid) AND NOT disabled AND deleted_at IS NULL)sql";

HttpResponse json_answer(int status, const boost::json::value& body) {
  return json_response(status, to_json_text(body));
}

HttpResponse not_found(const std::string& id) {
  return problem(404, "Not Found", "no product " + id);
}

std::optional<std::string> canonical_uuid(std::string_view text) {
  const auto id = events::Uuid::parse(text);
  if (!id) return std::nullopt;
  return id->str();
}

std::optional<ProductRow> load(soci::session& sql, const std::string& product_id, bool for_update) {
  ProductRow r;
  long long price = 0;
  long long stock = 0;
  long long created_ms = 0;
  sql << (for_update ? kSelectProductForUpdate : kSelectProduct),
      soci::use(product_id, "product_id"), soci::into(r.id), soci::into(r.seller_id),
      soci::into(r.name), soci::into(r.description), soci::into(price), soci::into(r.currency),
      soci::into(r.category), soci::into(stock), soci::into(created_ms);
  if (!sql.got_data()) return std::nullopt;
  r.price = price;
  r.stock = stock;
  r.created_ms = created_ms;
  return r;
}

std::vector<ProductRow> run_listing(soci::session& sql, const BoundSql& query) {
  ProductRow r;
  long long price = 0;
  long long stock = 0;
  long long created_ms = 0;
  soci::statement st(sql);
  st.exchange(soci::into(r.id));
  st.exchange(soci::into(r.seller_id));
  st.exchange(soci::into(r.name));
  st.exchange(soci::into(r.description));
  st.exchange(soci::into(price));
  st.exchange(soci::into(r.currency));
  st.exchange(soci::into(r.category));
  st.exchange(soci::into(stock));
  st.exchange(soci::into(created_ms));
  st.exchange(soci::into(r.sort_key));
  // Bound by reference: `query` outlives the statement.
  for (const auto& [name, value] : query.params) st.exchange(soci::use(value, name));
  st.alloc();
  st.prepare(query.text);
  st.define_and_bind();
  st.execute(false);
  std::vector<ProductRow> rows;
  while (st.fetch()) {
    r.price = price;
    r.stock = stock;
    r.created_ms = created_ms;
    rows.push_back(r);
  }
  return rows;
}

// The statement and its values: what identifies a listing's answer.
std::string listing_key(const BoundSql& query) {
  std::string key = query.text;
  for (const auto& [name, value] : query.params) {
    key.append(1, '\0').append(name).append(1, '\0').append(value);
  }
  return key;
}

// A writer of products_view holds this around its transaction (see ProductCache::Change).
std::unique_ptr<ProductCache::Change> changing(ApiContext& api, const std::string& product_id) {
  if (api.product_cache == nullptr) return nullptr;
  return std::make_unique<ProductCache::Change>(*api.product_cache, product_id);
}

HttpResponse list_products(ApiContext& api, const ProductQuery& query) {
  const BoundSql sql_query = product_list_sql(query);
  ProductCache* cache = api.product_cache;
  const std::string key = cache != nullptr ? listing_key(sql_query) : std::string{};
  if (cache != nullptr) {
    if (auto body = cache->listing(key)) return json_response(200, std::move(*body));
  }
  const auto ticket = cache != nullptr ? cache->ticket() : ProductCache::Ticket{};
  std::vector<ProductRow> rows;
  api.db.read([&](soci::session& sql) { rows = run_listing(sql, sql_query); });
  boost::json::value next = nullptr;
  if (rows.size() > static_cast<std::size_t>(query.limit)) {
    rows.resize(static_cast<std::size_t>(query.limit));
    next = boost::json::value(
        encode_cursor(cursor_after(query, rows.back()), product_cursor_scope(query)));
  }
  boost::json::array items;
  for (const auto& r : rows) items.push_back(product_to_json(r));
  std::string body =
      to_json_text(boost::json::object{{"items", std::move(items)}, {"next_cursor", next}});
  if (cache != nullptr) cache->keep_listing(ticket, key, body);
  return json_response(200, std::move(body));
}

// A command about one product, keyed and correlated by its id; returns its ce_id.
template <typename Command>
std::string add_command(ApiContext& api, events::OutboxWriter& outbox, const char* topic,
                        const Command& command) {
  require_broker(api);
  return events::emit(outbox, api.factory, topic, command.product_id, command, nullptr,
                      command.product_id)
      .id;
}

bool is_currency(const std::string& c) {
  if (c.size() != 3) return false;
  for (const char ch : c) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

// A price field of `body`, recorded as invalid in `check` when it is not an amount.
std::optional<std::int64_t> price_field(const boost::json::object& body, FieldCheck& check,
                                        bool required) {
  const auto* v = body.if_contains("price");
  if (v == nullptr) {
    if (required) check.fail("price", "is required");
    return std::nullopt;
  }
  auto minor = to_minor(*v);
  if (!minor) check.fail("price", "must be a number >= 0 with at most two decimals");
  return minor;
}

HttpResponse create_product(ApiContext& api, events::UuidV7Generator& ids,
                            const RequestContext& c) {
  const Principal& who = *c.principal;
  JsonBody body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  ProductRow row;
  row.name = check.required_string("name", 1, 200);
  row.description = check.optional_string("description", 0, 5000).value_or("");
  const auto price = price_field(body.object, check, true);
  row.currency = check.optional_string("currency", 3, 3).value_or("EUR");
  if (body.object.contains("currency") && !is_currency(row.currency)) {
    check.fail("currency", "must be three upper-case letters (ISO 4217)");
  }
  row.category = check.required_string("category", 1, 100);
  row.stock = check.optional_int("stock", 0, kMaxStock).value_or(0);
  // A seller always lists for themself; only an admin names another seller. The field is a
  // UUID whoever sends it.
  row.seller_id = who.user_id;
  std::optional<std::string> other_seller;
  if (const auto* v = body.object.if_contains("seller_id")) {
    const auto named = v->is_string() ? canonical_uuid(v->get_string()) : std::nullopt;
    if (!named) check.fail("seller_id", "must be a UUID");
    if (who.role == "admin") other_seller = named;
  }
  if (!check.ok()) return check.problem();
  row.price = *price;

  const auto now = api.clock.now();
  row.created_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::string created_at =
      events::format_rfc3339(events::Clock::time_point{std::chrono::milliseconds{row.created_ms}});
  row.id = ids.next().str();

  std::optional<HttpResponse> refused;
  const auto change = changing(api, row.id);
  api.db.transact([&](soci::session& sql, events::OutboxWriter& outbox) {
    if (other_seller) {
      std::string role;
      sql << kSellerRole, soci::use(*other_seller, "user_id"), soci::into(role);
      if (!sql.got_data() || (role != "seller" && role != "admin")) {
        refused = problem(422, "Unprocessable Content", "seller_id is not an enabled seller",
                          {{"seller_id", "is not an enabled seller"}});
        return;
      }
      row.seller_id = *other_seller;
    }
    const std::string command = add_command(api, outbox, kCatalogCommands,
                                            cat::CreateProductV1{.product_id = row.id,
                                                                 .seller_id = row.seller_id,
                                                                 .name = row.name,
                                                                 .description = row.description,
                                                                 .price = row.price,
                                                                 .currency = row.currency,
                                                                 .category = row.category,
                                                                 .initial_stock = row.stock,
                                                                 .actor_id = who.user_id,
                                                                 .actor_role = who.role});
    const long long price_value = row.price;
    const long long stock_value = row.stock;
    sql << kInsertProduct, soci::use(row.id, "product_id"), soci::use(row.seller_id, "seller_id"),
        soci::use(row.name, "name"), soci::use(row.description, "description"),
        soci::use(price_value, "price"), soci::use(row.currency, "currency"),
        soci::use(row.category, "category"), soci::use(stock_value, "stock"),
        soci::use(created_at, "created_at"), soci::use(created_at, "updated_at"),
        soci::use(command, "command");
  });
  if (refused) return *refused;
  HttpResponse r = json_answer(202, product_to_json(row));
  r.headers.emplace_back("Location", "/products/" + row.id);
  return r;
}

// Loads the product for a write by `who`: 404 when it is unknown or deleted, 403 when a
// seller writes to another seller's product (the product itself is public).
std::optional<HttpResponse> writable(soci::session& sql, const std::string& product_id,
                                     const Principal& who, std::optional<ProductRow>& row) {
  row = load(sql, product_id, true);
  if (!row) return not_found(product_id);
  if (who.role != "admin" && row->seller_id != who.user_id) {
    return problem(403, "Forbidden", "only the product's seller or an admin may change it");
  }
  return std::nullopt;
}

HttpResponse update_product(ApiContext& api, const RequestContext& c) {
  const Principal& who = *c.principal;
  const auto id = canonical_uuid(c.params.at("id"));
  if (!id) return not_found(c.params.at("id"));
  JsonBody body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const auto name = check.optional_string("name", 1, 200);
  const auto description = check.optional_string("description", 0, 5000);
  const auto price = price_field(body.object, check, false);
  const auto category = check.optional_string("category", 1, 100);
  if (!body.object.contains("name") && !body.object.contains("description") &&
      !body.object.contains("price") && !body.object.contains("category")) {
    check.fail("body", "must change at least one of name, description, price, category");
  }
  if (!check.ok()) return check.problem();

  std::optional<HttpResponse> refused;
  std::optional<ProductRow> row;
  const auto change = changing(api, *id);
  api.db.transact([&](soci::session& sql, events::OutboxWriter& outbox) {
    refused = writable(sql, *id, who, row);
    if (refused) return;
    // The command carries only what changed; the view row gets the merged state.
    const cat::UpdateProductV1 changes{.product_id = *id,
                                       .name = name,
                                       .description = description,
                                       .price = price,
                                       .category = category,
                                       .actor_id = who.user_id,
                                       .actor_role = who.role};
    row->name = name.value_or(row->name);
    row->description = description.value_or(row->description);
    row->price = price.value_or(row->price);
    row->category = category.value_or(row->category);
    const std::string command = add_command(api, outbox, kCatalogCommands, changes);
    const long long price_value = row->price;
    sql << kUpdateProductRow, soci::use(row->name, "name"),
        soci::use(row->description, "description"), soci::use(price_value, "price"),
        soci::use(row->category, "category"), soci::use(command, "command"),
        soci::use(*id, "product_id");
  });
  if (refused) return *refused;
  return json_answer(202, product_to_json(*row));
}

HttpResponse set_stock(ApiContext& api, const RequestContext& c) {
  const Principal& who = *c.principal;
  const auto id = canonical_uuid(c.params.at("id"));
  if (!id) return not_found(c.params.at("id"));
  JsonBody body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const std::int64_t stock = check.required_int("stock", 0, kMaxStock);
  if (!check.ok()) return check.problem();

  std::optional<HttpResponse> refused;
  const auto change = changing(api, *id);
  api.db.transact([&](soci::session& sql, events::OutboxWriter& outbox) {
    std::optional<ProductRow> row;
    refused = writable(sql, *id, who, row);
    if (refused) return;
    const std::string command =
        add_command(api, outbox, kInventoryCommands,
                    contracts::inventory::AdjustStockV1{.product_id = *id,
                                                        .available = stock,
                                                        .delta = std::nullopt,
                                                        .actor_id = who.user_id,
                                                        .actor_role = who.role});
    sql << kSetStock, soci::use(stock, "stock"), soci::use(command, "command"),
        soci::use(*id, "product_id");
  });
  if (refused) return *refused;
  return json_answer(202, boost::json::object{{"product_id", *id}, {"stock", stock}});
}

HttpResponse delete_product(ApiContext& api, const RequestContext& c) {
  const Principal& who = *c.principal;
  const auto id = canonical_uuid(c.params.at("id"));
  if (!id) return not_found(c.params.at("id"));
  std::optional<HttpResponse> refused;
  const auto change = changing(api, *id);
  api.db.transact([&](soci::session& sql, events::OutboxWriter& outbox) {
    std::optional<ProductRow> row;
    refused = writable(sql, *id, who, row);
    if (refused) return;
    sql << kMarkDeleted, soci::use(*id, "product_id");
    add_command(
        api, outbox, kCatalogCommands,
        cat::DeleteProductV1{.product_id = *id, .actor_id = who.user_id, .actor_role = who.role});
  });
  if (refused) return *refused;
  return json_answer(202, boost::json::object{{"id", *id}, {"status", "deleted"}});
}

HttpResponse get_product(ApiContext& api, const RequestContext& c) {
  const auto id = canonical_uuid(c.params.at("id"));
  if (!id) return not_found(c.params.at("id"));
  ProductCache* cache = api.product_cache;
  if (cache != nullptr) {
    if (auto body = cache->product(*id)) return json_response(200, std::move(*body));
  }
  const auto ticket = cache != nullptr ? cache->ticket() : ProductCache::Ticket{};
  std::optional<ProductRow> row;
  api.db.read([&](soci::session& sql) { row = load(sql, *id, false); });
  // A "no such product" is not kept: anyone may ask for any number of unknown ids, and they
  // would push the products people read out of the cache.
  if (!row) return not_found(*id);
  std::string body = to_json_text(product_to_json(*row));
  if (cache != nullptr) cache->keep_product(ticket, *id, body);
  return json_response(200, std::move(body));
}

}  // namespace

void register_product_routes(Router& router, ApiContext& api) {
  // The products' ids: UUIDv7, so the newest-first listing follows creation order.
  auto ids = std::make_shared<events::UuidV7Generator>(api.clock, events::system_random());

  router.add("GET", "/products", Access::kAnyone, [&api](const RequestContext& c) {
    auto parsed = parse_product_query(c.request);
    if (parsed.error) return *parsed.error;
    return list_products(api, parsed.query);
  });
  router.add("POST", "/products", Access::kSellerOrAdmin,
             [&api, ids](const RequestContext& c) { return create_product(api, *ids, c); });
  router.add("GET", "/products/{id}", Access::kAnyone,
             [&api](const RequestContext& c) { return get_product(api, c); });
  router.add("PATCH", "/products/{id}", Access::kSellerOrAdmin,
             [&api](const RequestContext& c) { return update_product(api, c); });
  router.add("DELETE", "/products/{id}", Access::kAdmin,
             [&api](const RequestContext& c) { return delete_product(api, c); });
  router.add("PUT", "/products/{id}/stock", Access::kSellerOrAdmin,
             [&api](const RequestContext& c) { return set_stock(api, c); });
  router.add("GET", "/sellers/me/products", Access::kSeller, [&api](const RequestContext& c) {
    // The caller's own listing, whatever `seller` says.
    auto parsed = parse_product_query(c.request, c.principal->user_id);
    if (parsed.error) return *parsed.error;
    return list_products(api, parsed.query);
  });
}

}  // namespace bazaar::edge
