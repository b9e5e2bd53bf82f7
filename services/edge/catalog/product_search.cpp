#include "catalog/product_search.hpp"

#include <charconv>
#include <chrono>

#include "catalog/money.hpp"
#include "events/envelope.hpp"
#include "events/uuid.hpp"
#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

// Every piece of the listing statement: the only SQL text product_list_sql() ever emits.
constexpr const char* kSelect =
    R"sql(SELECT CAST(product_id AS text), CAST(seller_id AS text), name, description,
       price, currency, category, stock,
       CAST(floor(extract(epoch FROM created_at) * 1000) AS bigint), )sql";
constexpr const char* kFrom = "\nFROM products_view\nWHERE status = 'active'";
// Two names for one value: a named placeholder may appear only once per statement.
constexpr const char* kWhereText =
    "\n  AND (lower(name) LIKE lower(CAST(:q_name AS text)) ESCAPE '!'"
    " OR lower(description) LIKE lower(CAST(:q_description AS text)) ESCAPE '!')";
constexpr const char* kWhereCategory = "\n  AND category = CAST(:category AS text)";
constexpr const char* kWhereMinPrice = "\n  AND price >= CAST(:min_price AS bigint)";
constexpr const char* kWhereMaxPrice = "\n  AND price <= CAST(:max_price AS bigint)";
constexpr const char* kWhereSeller = "\n  AND seller_id = CAST(:seller_id AS uuid)";
constexpr const char* kLimit = "\nLIMIT CAST(:row_limit AS integer)";

// One ordering: its key as text (for the cursor), its keyset condition, its ORDER BY.
// created_at's key is epoch microseconds, exact in PostgreSQL 15 (extract gives numeric); it
// goes back as seconds and microseconds because interval arithmetic multiplies in double,
// exact only below 2^53.
struct SortSql {
  ProductSort sort;
  std::string_view name;
  bool integer_key;
  const char* key;
  const char* after;
  const char* order;
};

constexpr SortSql kSorts[] = {
    {ProductSort::kNewest, "-created_at", true,
     "CAST(CAST(extract(epoch FROM created_at) * 1000000 AS bigint) AS text)",
     "\n  AND (created_at, product_id) < (timestamptz 'epoch' + CAST(:after_seconds AS bigint) * "
     "interval '1 second' + CAST(:after_micros AS bigint) * interval '1 microsecond', "
     "CAST(:after_id AS uuid))",
     "\nORDER BY created_at DESC, product_id DESC"},
    {ProductSort::kPriceAscending, "price", true, "CAST(price AS text)",
     "\n  AND (price, product_id) > (CAST(:after_key AS bigint), CAST(:after_id AS uuid))",
     "\nORDER BY price ASC, product_id ASC"},
    {ProductSort::kPriceDescending, "-price", true, "CAST(price AS text)",
     "\n  AND (price, product_id) < (CAST(:after_key AS bigint), CAST(:after_id AS uuid))",
     "\nORDER BY price DESC, product_id DESC"},
    {ProductSort::kName, "name", false, "lower(name)",
     "\n  AND (lower(name), product_id) > (CAST(:after_key AS text), CAST(:after_id AS uuid))",
     "\nORDER BY lower(name) ASC, product_id ASC"},
};

const SortSql& sort_sql(ProductSort sort) {
  for (const auto& s : kSorts) {
    if (s.sort == sort) return s;
  }
  return kSorts[0];
}

// Characters (code points) of valid UTF-8 text: the query's limits count what people type.
std::size_t characters(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

// An empty parameter (`?q=`) means the filter is not wanted, as most clients send it.
std::optional<std::string> non_empty(const HttpRequest& request, std::string_view name) {
  auto v = request.param(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

bool is_integer_key(std::string_view text) {
  // Any 64-bit integer: a price sort key may be as large as a price the catalog holds, so
  // std::stoll cannot throw on a key that passed.
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [at, err] = std::from_chars(text.data(), end, value);
  return !text.empty() && err == std::errc{} && at == end;
}

std::pair<std::string, std::string> split_micros(std::string_view key) {
  const std::int64_t micros = std::stoll(std::string(key));
  return {std::to_string(micros / 1'000'000), std::to_string(micros % 1'000'000)};
}

std::string_view sort_name(ProductSort sort) {
  return sort_sql(sort).name;
}

std::string escape_like(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '!') out.push_back('!');
    out.push_back(c);
  }
  return out;
}

ProductQueryParse parse_product_query(const HttpRequest& request,
                                      const std::optional<std::string>& own_seller) {
  ProductQueryParse out;
  ProductQuery& q = out.query;
  std::vector<FieldError> errors;

  if (auto text = non_empty(request, "q")) {
    if (characters(*text) > 200) {
      errors.push_back({"q", "must be at most 200 characters"});
    } else {
      q.text = std::move(text);
    }
  }
  if (auto category = non_empty(request, "category")) {
    if (characters(*category) > 100) {
      errors.push_back({"category", "must be at most 100 characters"});
    } else {
      q.category = std::move(category);
    }
  }
  for (const auto& [name, target] :
       {std::pair<const char*, std::optional<std::int64_t>*>{"min_price", &q.min_price},
        std::pair<const char*, std::optional<std::int64_t>*>{"max_price", &q.max_price}}) {
    if (const auto text = non_empty(request, name)) {
      *target = parse_minor(*text);
      if (!*target) errors.push_back({name, "must be an amount >= 0 with at most two decimals"});
    }
  }
  if (q.min_price && q.max_price && *q.min_price > *q.max_price) {
    errors.push_back({"max_price", "must not be below min_price"});
  }
  // Checked even where the caller's own listing replaces it: it is still a malformed parameter.
  if (const auto seller = non_empty(request, "seller")) {
    if (const auto id = events::Uuid::parse(*seller)) {
      q.seller_id = id->str();
    } else {
      errors.push_back({"seller", "must be a UUID"});
    }
  }
  if (own_seller) q.seller_id = own_seller;
  if (const auto sort = non_empty(request, "sort")) {
    bool known = false;
    for (const auto& s : kSorts) {
      if (s.name == *sort) {
        q.sort = s.sort;
        known = true;
      }
    }
    if (!known) errors.push_back({"sort", "must be one of price, -price, name, -created_at"});
  }
  if (const auto limit = parse_limit(request.param("limit"))) {
    q.limit = *limit;
  } else {
    errors.push_back({"limit", "must be an integer from 1 to " + std::to_string(kMaxPageSize)});
  }
  if (!errors.empty()) {
    std::string detail;
    for (const auto& e : errors) {
      if (!detail.empty()) detail += "; ";
      detail += e.field + " " + e.reason;
    }
    out.error = problem(422, "Unprocessable Content", detail, std::move(errors));
    return out;
  }
  if (const auto text = non_empty(request, "cursor")) {
    auto cursor = decode_cursor(*text, product_cursor_scope(q));
    const SortSql& s = sort_sql(q.sort);
    if (!cursor || cursor->sort != s.name || (s.integer_key && !is_integer_key(cursor->key))) {
      out.error =
          problem(400, "Bad Request", "cursor is not a next_cursor of this listing and sort",
                  {{"cursor", "is not a next_cursor of this listing and sort"}});
      return out;
    }
    q.after = std::move(cursor);
  }
  return out;
}

BoundSql product_list_sql(const ProductQuery& query) {
  const SortSql& s = sort_sql(query.sort);
  BoundSql out;
  // Aliased: a key named like a column ("price") would make ORDER BY ambiguous.
  out.text = std::string(kSelect) + s.key + " AS sort_key" + kFrom;
  if (query.text) {
    const std::string pattern = "%" + escape_like(*query.text) + "%";
    out.text += kWhereText;
    out.params.emplace_back("q_name", pattern);
    out.params.emplace_back("q_description", pattern);
  }
  if (query.category) {
    out.text += kWhereCategory;
    out.params.emplace_back("category", *query.category);
  }
  if (query.min_price) {
    out.text += kWhereMinPrice;
    out.params.emplace_back("min_price", std::to_string(*query.min_price));
  }
  if (query.max_price) {
    out.text += kWhereMaxPrice;
    out.params.emplace_back("max_price", std::to_string(*query.max_price));
  }
  if (query.seller_id) {
    out.text += kWhereSeller;
    out.params.emplace_back("seller_id", *query.seller_id);
  }
  if (query.after) {
    out.text += s.after;
    if (query.sort == ProductSort::kNewest) {
      const auto [seconds, micros] = split_micros(query.after->key);
      out.params.emplace_back("after_seconds", seconds);
      out.params.emplace_back("after_micros", micros);
    } else {
      out.params.emplace_back("after_key", query.after->key);
    }
    out.params.emplace_back("after_id", query.after->id);
  }
  out.text += s.order;
  out.text += kLimit;
  out.params.emplace_back("row_limit", std::to_string(query.limit + 1));
  return out;
}

boost::json::object product_to_json(const ProductRow& row) {
  const events::Clock::time_point created{std::chrono::milliseconds{row.created_ms}};
  return boost::json::object{{"id", row.id},
                             {"name", row.name},
                             {"description", row.description},
                             {"price", from_minor(row.price)},
                             {"currency", row.currency},
                             {"category", row.category},
                             {"seller_id", row.seller_id},
                             {"stock", row.stock},
                             {"created_at", events::format_rfc3339(created)}};
}

Cursor cursor_after(const ProductQuery& query, const ProductRow& last) {
  return Cursor{std::string(sort_name(query.sort)), last.sort_key, last.id};
}

std::string product_cursor_scope(const ProductQuery& query) {
  const auto amount = [](const std::optional<std::int64_t>& v) {
    return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
  };
  const auto min_price = amount(query.min_price);
  const auto max_price = amount(query.max_price);
  return cursor_scope("products",
                      {query.text, query.category, min_price, max_price, query.seller_id});
}

}  // namespace bazaar::edge
