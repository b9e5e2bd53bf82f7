#include "catalog/product_search.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "catalog/money.hpp"

using namespace bazaar::edge;

namespace {

HttpRequest get(std::initializer_list<std::pair<const std::string, std::string>> query) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/products";
  r.query = query;
  return r;
}

std::string param(const BoundSql& sql, const std::string& name) {
  for (const auto& [n, v] : sql.params) {
    if (n == name) return v;
  }
  return "<unbound>";
}

bool mentions(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}

constexpr const char* kId = "0190a3c4-1b2c-7d3e-8f40-123456789abc";

}  // namespace

TEST_CASE("no parameters list the newest active products twenty at a time") {
  const auto parsed = parse_product_query(get({}));
  REQUIRE_FALSE(parsed.error);
  CHECK(parsed.query.sort == ProductSort::kNewest);
  CHECK(parsed.query.limit == 20);
  const BoundSql sql = product_list_sql(parsed.query);
  CHECK(mentions(sql.text, "WHERE status = 'active'"));
  CHECK(mentions(sql.text, "ORDER BY created_at DESC, product_id DESC"));
  REQUIRE(sql.params.size() == 1);
  CHECK(param(sql, "row_limit") == "21");
}

TEST_CASE("every filter becomes a bound parameter") {
  const auto parsed = parse_product_query(get({{"q", "Lamp"},
                                               {"category", "home"},
                                               {"min_price", "5"},
                                               {"max_price", "19.99"},
                                               {"seller", "0190A3C4-1B2C-7D3E-8F40-123456789ABC"},
                                               {"sort", "price"},
                                               {"limit", "5"}}));
  REQUIRE_FALSE(parsed.error);
  const BoundSql sql = product_list_sql(parsed.query);
  CHECK(param(sql, "q_name") == "%Lamp%");
  CHECK(param(sql, "q_description") == "%Lamp%");
  CHECK(param(sql, "category") == "home");
  CHECK(param(sql, "min_price") == "500");
  CHECK(param(sql, "max_price") == "1999");
  CHECK(param(sql, "seller_id") == kId);
  CHECK(param(sql, "row_limit") == "6");
  CHECK(mentions(sql.text, "ORDER BY price ASC, product_id ASC"));
  CHECK(mentions(sql.text, "lower(name) LIKE lower(CAST(:q_name AS text)) ESCAPE '!'"));
}

TEST_CASE("user text never reaches the statement text") {
  const std::string evil = "x'; DROP TABLE products_view; --";
  const auto parsed = parse_product_query(get({{"q", evil}, {"category", evil}}));
  REQUIRE_FALSE(parsed.error);
  const BoundSql sql = product_list_sql(parsed.query);
  CHECK_FALSE(mentions(sql.text, "DROP"));
  CHECK(param(sql, "category") == evil);
}

TEST_CASE("LIKE wildcards in the search text match literally") {
  CHECK(escape_like("50%_off!") == "50!%!_off!!");
  CHECK(escape_like("plain") == "plain");
  const auto parsed = parse_product_query(get({{"q", "100%"}}));
  REQUIRE_FALSE(parsed.error);
  CHECK(param(product_list_sql(parsed.query), "q_name") == "%100!%%");
}

TEST_CASE("each sort has its own order and keyset condition") {
  struct Case {
    const char* sort;
    const char* order;
    const char* after;
  };
  for (const Case c :
       {Case{"price", "price ASC, product_id ASC", "(price, product_id) >"},
        Case{"-price", "price DESC, product_id DESC", "(price, product_id) <"},
        Case{"name", "lower(name) ASC, product_id ASC", "(lower(name), product_id) >"},
        Case{"-created_at", "created_at DESC, product_id DESC", "(created_at, product_id) <"}}) {
    const std::string key = std::string(c.sort) == "name" ? "lamp" : "1250";
    const std::string cursor = encode_cursor({c.sort, key, kId}, product_cursor_scope({}));
    const auto parsed = parse_product_query(get({{"sort", c.sort}, {"cursor", cursor}}));
    REQUIRE_FALSE(parsed.error);
    const BoundSql sql = product_list_sql(parsed.query);
    CHECK(mentions(sql.text, c.order));
    CHECK(mentions(sql.text, c.after));
    if (std::string(c.sort) == "-created_at") {
      CHECK(param(sql, "after_micros") == "1250");
    } else {
      CHECK(param(sql, "after_key") == key);
    }
    CHECK(param(sql, "after_id") == kId);
  }
}

TEST_CASE("invalid parameters are named in one 422") {
  const auto parsed = parse_product_query(get({{"min_price", "-1"},
                                               {"max_price", "1.234"},
                                               {"seller", "bob"},
                                               {"sort", "popularity"},
                                               {"limit", "1000"}}));
  REQUIRE(parsed.error);
  CHECK(parsed.error->status == 422);
  CHECK(parsed.error->content_type == "application/problem+json");
  const auto body = boost::json::parse(parsed.error->body).as_object();
  std::vector<std::string> fields;
  for (const auto& e : body.at("errors").as_array()) {
    fields.emplace_back(e.at("field").as_string());
  }
  CHECK(fields == std::vector<std::string>{"min_price", "max_price", "seller", "sort", "limit"});
}

TEST_CASE("a price range upside down is refused") {
  const auto parsed = parse_product_query(get({{"min_price", "20"}, {"max_price", "10"}}));
  REQUIRE(parsed.error);
  CHECK(parsed.error->status == 422);
}

TEST_CASE("a foreign or garbled cursor is a 400") {
  CHECK(parse_product_query(get({{"cursor", "garbage!"}})).error->status == 400);
  // A price cursor used with the default sort.
  const std::string price_cursor = encode_cursor({"price", "100", kId}, product_cursor_scope({}));
  CHECK(parse_product_query(get({{"cursor", price_cursor}})).error->status == 400);
  // An integer sort with a key that is not an integer.
  const std::string bad_key = encode_cursor({"price", "1; DROP", kId}, product_cursor_scope({}));
  CHECK(parse_product_query(get({{"sort", "price"}, {"cursor", bad_key}})).error->status == 400);
}

TEST_CASE("empty parameters are ignored") {
  const auto parsed = parse_product_query(get({{"q", ""}, {"category", ""}, {"cursor", ""}}));
  REQUIRE_FALSE(parsed.error);
  CHECK_FALSE(parsed.query.text);
  CHECK_FALSE(parsed.query.category);
  CHECK_FALSE(parsed.query.after);
}

TEST_CASE("a product row in its wire shape") {
  ProductRow row;
  row.id = kId;
  row.seller_id = kId;
  row.name = "Lamp";
  row.description = "bright";
  row.price = 1999;
  row.currency = "EUR";
  row.category = "home";
  row.stock = 3;
  row.created_ms = 1'700'000'000'123;
  row.sort_key = "1999";
  const auto json = product_to_json(row);
  CHECK(to_json_text(json) ==
        R"({"id":"0190a3c4-1b2c-7d3e-8f40-123456789abc","name":"Lamp","description":"bright",)"
        R"("price":19.99,"currency":"EUR","category":"home",)"
        R"("seller_id":"0190a3c4-1b2c-7d3e-8f40-123456789abc","stock":3,)"
        R"("created_at":"2023-11-14T22:13:20.123Z"})");
  ProductQuery q;
  q.sort = ProductSort::kPriceDescending;
  const Cursor c = cursor_after(q, row);
  CHECK(c.sort == "-price");
  CHECK(c.key == "1999");
  CHECK(c.id == kId);
}

TEST_CASE("a cursor is refused after its filters change") {
  ProductQuery lamps;
  lamps.text = "lamp";
  lamps.seller_id = kId;
  const std::string cursor =
      encode_cursor({"-created_at", "1767323045678123", kId}, product_cursor_scope(lamps));
  CHECK_FALSE(parse_product_query(get({{"q", "lamp"}, {"seller", kId}, {"cursor", cursor}})).error);
  // The seller's own listing is the same listing as /products?seller= of that seller.
  CHECK_FALSE(parse_product_query(get({{"q", "lamp"}, {"cursor", cursor}}), kId).error);
  CHECK(parse_product_query(get({{"q", "desk"}, {"seller", kId}, {"cursor", cursor}}))
            .error->status == 400);
  CHECK(parse_product_query(get({{"q", "lamp"}, {"cursor", cursor}})).error->status == 400);
  // A malformed `seller` is refused even where the own listing ignores it.
  CHECK(parse_product_query(get({{"seller", "AAA"}}), kId).error->status == 422);
  CHECK(parse_product_query(
            get({{"q", "lamp"}, {"seller", kId}, {"min_price", "1"}, {"cursor", cursor}}))
            .error->status == 400);
}

TEST_CASE("newest first pages compare exact timestamps") {
  const std::string cursor =
      encode_cursor({"-created_at", "1767323045678123", kId}, product_cursor_scope({}));
  const auto parsed = parse_product_query(get({{"cursor", cursor}}));
  REQUIRE_FALSE(parsed.error);
  const BoundSql sql = product_list_sql(parsed.query);
  CHECK(param(sql, "after_seconds") == "1767323045");
  CHECK(param(sql, "after_micros") == "678123");
  CHECK(param(sql, "after_id") == kId);
  CHECK(param(sql, "after_key") == "<unbound>");
  CHECK(split_micros("-1500000") == std::pair<std::string, std::string>{"-1", "-500000"});
}

TEST_CASE("integer cursor keys are bounded") {
  CHECK(is_integer_key("0"));
  CHECK(is_integer_key("-12"));
  CHECK(is_integer_key("999999999999999999"));
  CHECK(is_integer_key("4611686018427387904"));  // a price the catalog may hold, as a sort key
  CHECK(is_integer_key("9223372036854775807"));
  CHECK_FALSE(is_integer_key("9223372036854775808"));
  CHECK_FALSE(is_integer_key("+1"));
  CHECK_FALSE(is_integer_key("-"));
  CHECK_FALSE(is_integer_key(""));
  CHECK_FALSE(is_integer_key("1.5"));
  const std::string huge =
      encode_cursor({"price", "99999999999999999999", kId}, product_cursor_scope({}));
  CHECK(parse_product_query(get({{"sort", "price"}, {"cursor", huge}})).error->status == 400);
}
